// Log set-up: maps the configuration's level and format to the logging facade's.
#include "app/log_setup.h"

#include "log/log.h"

namespace sbx::app {
namespace {

log::Level level_of(config::LogLevel l) {
    switch (l) {
        case config::LogLevel::debug:
            return log::Level::debug;
        case config::LogLevel::info:
            return log::Level::info;
        case config::LogLevel::warning:
            return log::Level::warning;
        case config::LogLevel::error:
            return log::Level::error;
    }
    return log::Level::info;
}

}  // namespace

void configure_log(const config::Config& cfg, bool quiet) {
    log::Level level = level_of(cfg.log_level);
    if (quiet && level == log::Level::info) level = log::Level::warning;
    log::set_level(level);
    log::set_format(cfg.log_format == config::LogFormat::json ? log::Format::json
                                                              : log::Format::text);
}

}  // namespace sbx::app
