// Input file name checks: the engine writes names as given, so only safe relative paths pass.
#include "api/filename.h"

#include <set>

namespace sbx::api {
namespace {

std::optional<std::string> segment_problem(std::string_view segment) {
    if (segment.empty()) return "empty path segment";
    if (segment == "." || segment == "..") return "'.' and '..' path segments are not allowed";
    return std::nullopt;
}

}  // namespace

std::optional<std::string> filename_problem(std::string_view name) {
    if (name.empty()) return "empty file name";
    if (name.size() > kMaxFileNameBytes) {
        return "file name longer than " + std::to_string(kMaxFileNameBytes) + " bytes";
    }
    if (name.front() == '/') return "absolute paths are not allowed";
    for (char c : name) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) return "control characters are not allowed";
        if (c == '\\') return "backslashes are not allowed";
    }
    if (name == "main.py") return "'main.py' is reserved for the submitted code";
    std::size_t start = 0;
    for (;;) {
        std::size_t slash = name.find('/', start);
        auto segment =
            name.substr(start, slash == std::string_view::npos ? name.npos : slash - start);
        if (auto problem = segment_problem(segment)) return problem;
        if (slash == std::string_view::npos) return std::nullopt;
        start = slash + 1;
    }
}

std::optional<NameConflict> filename_conflict(std::span<const std::string_view> names) {
    std::set<std::string_view> files(names.begin(), names.end());
    for (std::string_view name : names) {
        for (auto slash = name.find('/'); slash != std::string_view::npos;
             slash = name.find('/', slash + 1)) {
            std::string_view parent = name.substr(0, slash);
            if (parent == "main.py") {
                return NameConflict{std::string(name),
                                    "'main.py' is the submitted code, not a directory"};
            }
            if (files.contains(parent)) {
                return NameConflict{std::string(name), "'" + std::string(parent) +
                                                           "' is an input file, not a directory"};
            }
        }
    }
    return std::nullopt;
}

}  // namespace sbx::api
