// Rules for the names of input files (keys of the request's "files" object).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace sbx::api {

inline constexpr std::size_t kMaxFileNameBytes = 255;

// nullopt when `name` is a safe relative path inside the work dir ("data/in.csv" is fine);
// otherwise the reason, for a 400 message: empty, over 255 bytes, absolute, backslash,
// NUL/control character, empty segment ("a//b", trailing '/'), "." or ".." segment, or
// "main.py" (that name is the program itself).
[[nodiscard]] std::optional<std::string> filename_problem(std::string_view name);

// A name that cannot be created because a parent directory it needs is a file: another input
// file ({"a": .., "a/b": ..}) or main.py ({"main.py/x": ..}).
struct NameConflict {
    std::string name;    // the deeper name, whatever the order of the request
    std::string reason;  // for the 400 message: "'a' is an input file, not a directory"
};

// Checks names that each passed filename_problem (none is main.py itself) against each
// other; nullopt when every one can be written. O(total length × log n).
[[nodiscard]] std::optional<NameConflict> filename_conflict(
    std::span<const std::string_view> names);

}  // namespace sbx::api
