// Builders of Setting entries shared by the settings tables (settings.cpp, job_settings.cpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/parse.h"
#include "config/settings.h"

namespace sbx::config {

// An integer field of type T, accepted from lo to hi.
template <class T>
Setting integer(std::string_view name, std::string_view help, T Config::*field, std::int64_t lo,
                std::int64_t hi) {
    return Setting{name, help,
                   [=](Config& c, std::string_view t) -> std::optional<std::string> {
                       auto v = parse_int(t);
                       if (!v || *v < lo || *v > hi) {
                           return "must be an integer from " + std::to_string(lo) + " to " +
                                  std::to_string(hi);
                       }
                       c.*field = static_cast<T>(*v);
                       return std::nullopt;
                   },
                   [=](const Config& c) { return std::to_string(c.*field); }};
}

// Whole seconds, accepted from lo to hi.
inline Setting seconds(std::string_view name, std::string_view help,
                       std::chrono::seconds Config::*field, std::int64_t lo, std::int64_t hi) {
    return Setting{name, help,
                   [=](Config& c, std::string_view t) -> std::optional<std::string> {
                       auto v = parse_int(t);
                       if (!v || *v < lo || *v > hi) {
                           return "must be whole seconds from " + std::to_string(lo) + " to " +
                                  std::to_string(hi);
                       }
                       c.*field = std::chrono::seconds{*v};
                       return std::nullopt;
                   },
                   [=](const Config& c) { return std::to_string((c.*field).count()); }};
}

// The settings of async jobs, callbacks and replicas (job_settings.cpp), appended to `s`.
void add_job_settings(std::vector<Setting>& s);

}  // namespace sbx::config
