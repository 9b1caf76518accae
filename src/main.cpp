// pysandbox: wiring only — subcommand → config → log → the command (serve | run | selftest).
#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

#include "app/commands.h"
#include "app/log_setup.h"
#include "config/load.h"
#include "log/log.h"

namespace {

constexpr const char* kUsage =
    "usage: pysandbox serve [--setting value ...]   run the HTTP service\n"
    "       pysandbox run FILE.py [--timeout S] [--file NAME=PATH ...] [--out DIR]\n"
    "                     [--setting value ...]\n"
    "       pysandbox selftest [--setting value ...] check this host's isolation layers\n"
    "       pysandbox keys create|list|update|revoke ...  API keys (pysandbox keys --help)\n"
    "       pysandbox env-example                    print every setting with its default\n"
    "       pysandbox version\n"
    "Settings (flag > environment > .env > default) are listed in .env.example;\n"
    "each NAME is also a flag --name (e.g. MEMORY_LIMIT -> --memory-limit).\n";

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is an error code, not a death
    const std::string cmd = argc > 1 ? argv[1] : "";
    std::vector<std::string> args(argv + std::min(argc, 2), argv + argc);
    if (cmd == "version" || cmd == "--version") {
        std::printf("pysandbox %s\n", SBX_VERSION);
        return 0;
    }
    if (cmd == "env-example") {
        std::fputs(sbx::config::env_example().c_str(), stdout);
        return 0;
    }
    if (cmd == "run") return sbx::app::run_command(args);
    if (cmd == "keys") return sbx::app::keys_command(args);
    if (cmd != "serve" && cmd != "selftest") {
        std::fputs(kUsage, cmd == "--help" || cmd == "help" ? stdout : stderr);
        return cmd == "--help" || cmd == "help" ? 0 : 2;
    }
    auto loaded = sbx::config::load(sbx::config::Sources{args, {}, std::filesystem::path(".env")});
    if (!loaded.errors.empty()) {
        for (const auto& e : loaded.errors) std::fprintf(stderr, "pysandbox: invalid setting: %s\n", e.c_str());
        return 2;
    }
    sbx::app::configure_log(loaded.config);
    std::string effective;
    for (const auto& line : sbx::config::describe(loaded.config)) effective += line + " ";
    sbx::log::info("effective config", {{"settings", effective}});
    if (cmd == "selftest") return sbx::app::selftest_command(loaded.config);
    return sbx::app::serve_command(loaded.config);
}
