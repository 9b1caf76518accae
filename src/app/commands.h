// The pysandbox subcommands; each returns the process exit status.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace sbx::app {

int serve_command(const config::Config& cfg);
// pysandbox run FILE.py [--timeout S] [--file NAME=PATH ...] [--out DIR] [config flags]
int run_command(const std::vector<std::string>& args);
int selftest_command(const config::Config& cfg);
// pysandbox keys create|list|update|revoke ... (app/keys_args.h has the usage)
int keys_command(const std::vector<std::string>& args);

}  // namespace sbx::app
