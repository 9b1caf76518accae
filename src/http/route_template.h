// A route's path template ("/sessions/{id}/execute"): parsing, matching a path, specificity.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_context.h"

namespace sbx::http {

// Segments are literals or parameters "{name}"; a parameter is a whole segment and takes
// exactly one non-empty path segment (so a value never holds a '/' of the path).
class RouteTemplate {
   public:
    // Throws std::invalid_argument when `text` does not start with '/', a parameter is not a
    // whole segment ("/a{b}"), a name is empty, repeated or not [A-Za-z0-9_], or a literal
    // holds '{' or '}'.
    explicit RouteTemplate(std::string text);

    [[nodiscard]] const std::string& text() const noexcept { return text_; }
    [[nodiscard]] bool has_parameters() const noexcept;

    // The parameters when `path` (no query) matches: as many segments; literals equal byte for
    // byte (the path is not decoded for them, as before templates existed); each parameter's
    // segment percent-decoded ("a%20b" → "a b"). A segment that does not decode (a '%' without
    // two hex digits) or decodes to a '/' or NUL does not match. nullopt when it does not match.
    [[nodiscard]] std::optional<PathParams> match(std::string_view path) const;

    // For two templates matching the same path: true when, at the first segment where one has a
    // literal and the other a parameter, this one has the literal ("/sessions/new" beats
    // "/sessions/{id}").
    [[nodiscard]] bool more_specific_than(const RouteTemplate& other) const noexcept;

   private:
    struct Segment {
        std::string text;  // the literal, or the parameter's name
        bool parameter = false;
    };

    std::string text_;
    std::vector<Segment> segments_;
};

// Percent-decoding of one path segment; nullopt for a bad escape or a decoded '/' or NUL.
[[nodiscard]] std::optional<std::string> decode_segment(std::string_view segment);

}  // namespace sbx::http
