// Builds the Config from its sources, highest first: flags, environment, .env file, defaults.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"

namespace sbx::config {

struct Sources {
    std::vector<std::string> flags;  // "--memory-limit=512m" or "--memory-limit", "512m"
    // Environment lookup; nullptr result = unset. Defaults to ::getenv when empty.
    std::function<const char*(const char*)> getenv;
    std::optional<std::filesystem::path> dotenv = std::filesystem::path(".env");  // missing = ok
};

struct Loaded {
    Config config;
    std::vector<std::string> errors;  // every problem found, each naming its setting; empty = ok
};

Loaded load(const Sources& sources);

// Checks the relations between settings; returns every error found.
std::vector<std::string> validate(const Config& cfg);

// Parses a .env file's text into (name, value) pairs; malformed lines are reported in errors.
std::vector<std::pair<std::string, std::string>> parse_dotenv(const std::string& text,
                                                              std::vector<std::string>& errors);

// The text of .env.example: every setting with its help line and default value.
std::string env_example();

// "KEY=value" lines for every setting with its current value (effective config, .env.example).
std::vector<std::string> describe(const Config& cfg);

}  // namespace sbx::config
