// Log set-up from the configuration: LOG_LEVEL and LOG_FORMAT mapped to log's own enums.
#pragma once

#include "config/config.h"

namespace sbx::app {

// quiet: a command line tool (pysandbox run, keys) shows info lines only at DEBUG.
void configure_log(const config::Config& cfg, bool quiet = false);

}  // namespace sbx::app
