// Route templates: split on '/', literal or {name} segments, match without allocating on a miss.
#include "http/route_template.h"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace sbx::http {

namespace {

// The segments of a path or template after its leading '/': "/" → {""}, "/a/b" → {"a", "b"}.
template <class Visit>
bool for_each_segment(std::string_view path, Visit visit) {
    if (path.empty() || path.front() != '/') return false;
    path.remove_prefix(1);
    for (std::size_t index = 0;; ++index) {
        auto slash = path.find('/');
        if (!visit(index, path.substr(0, slash))) return false;
        if (slash == std::string_view::npos) return true;
        path.remove_prefix(slash + 1);
    }
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
    });
}

}  // namespace

std::optional<std::string> decode_segment(std::string_view segment) {
    std::string out;
    out.reserve(segment.size());
    for (std::size_t i = 0; i < segment.size(); ++i) {
        char c = segment[i];
        if (c == '%') {
            if (i + 2 >= segment.size()) return std::nullopt;
            int hi = hex_value(segment[i + 1]);
            int lo = hex_value(segment[i + 2]);
            if (hi < 0 || lo < 0) return std::nullopt;
            c = static_cast<char>(hi * 16 + lo);
            if (c == '/' || c == '\0') return std::nullopt;
            i += 2;
        }
        out += c;
    }
    return out;
}

RouteTemplate::RouteTemplate(std::string text) : text_(std::move(text)) {
    bool ok = for_each_segment(text_, [this](std::size_t, std::string_view s) {
        bool open = s.starts_with('{');
        bool close = s.ends_with('}');
        if (open && close && s.size() >= 2) {
            std::string name(s.substr(1, s.size() - 2));
            if (!valid_name(name)) return false;
            for (const auto& seg : segments_) {
                if (seg.parameter && seg.text == name) return false;
            }
            segments_.push_back(Segment{std::move(name), true});
            return true;
        }
        if (s.find_first_of("{}") != std::string_view::npos) return false;
        segments_.push_back(Segment{std::string(s), false});
        return true;
    });
    if (!ok) throw std::invalid_argument("bad route template: " + text_);
}

bool RouteTemplate::has_parameters() const noexcept {
    return std::any_of(segments_.begin(), segments_.end(),
                       [](const Segment& s) { return s.parameter; });
}

std::optional<PathParams> RouteTemplate::match(std::string_view path) const {
    std::size_t count = 0;
    bool matched = for_each_segment(path, [&](std::size_t i, std::string_view s) {
        count = i + 1;
        if (i >= segments_.size()) return false;
        const Segment& seg = segments_[i];
        return seg.parameter ? !s.empty() : s == seg.text;
    });
    if (!matched || count != segments_.size()) return std::nullopt;
    PathParams params;
    bool decoded = for_each_segment(path, [&](std::size_t i, std::string_view s) {
        if (!segments_[i].parameter) return true;
        auto value = decode_segment(s);
        if (!value) return false;
        params.emplace_back(segments_[i].text, std::move(*value));
        return true;
    });
    if (!decoded) return std::nullopt;
    return params;
}

bool RouteTemplate::more_specific_than(const RouteTemplate& other) const noexcept {
    auto n = std::min(segments_.size(), other.segments_.size());
    for (std::size_t i = 0; i < n; ++i) {
        if (segments_[i].parameter != other.segments_[i].parameter) {
            return !segments_[i].parameter;
        }
    }
    return false;
}

}  // namespace sbx::http
