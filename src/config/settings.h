// The table of settings: one entry per Config field, with its name and parser.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/config.h"

namespace sbx::config {

struct Setting {
    std::string_view name;  // environment / .env name, e.g. "MEMORY_LIMIT"; flag is --memory-limit
    std::string_view help;  // one line for --help and .env.example
    // Parses text into cfg; returns an error message (without the name) when the text is invalid.
    std::function<std::optional<std::string>(Config& cfg, std::string_view text)> apply;
    // The current value as text (for the effective-config log line and .env.example).
    std::function<std::string(const Config& cfg)> show;
};

std::span<const Setting> all_settings();
const Setting* find_setting(std::string_view name);
// "MEMORY_LIMIT" -> "--memory-limit"
std::string flag_for(std::string_view name);

}  // namespace sbx::config
