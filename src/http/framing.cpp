// Head scanning line by line, and the Transfer-Encoding / Content-Length rules.
#include "http/framing.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <iterator>

namespace sbx::http {

namespace bhttp = boost::beast::http;

HeadScanner::Result HeadScanner::scan(std::string_view received) {
    for (;;) {
        auto nl = received.find('\n', line_start_ + scanned_);
        if (nl == std::string_view::npos) {
            scanned_ = received.size() - line_start_;
            if (!request_line_done_ && scanned_ > kRequestLineLimit) {
                return {false, HeadProblem::request_line_too_long};
            }
            if (received.size() > kHeaderLimit) return {false, HeadProblem::head_too_long};
            return {};
        }
        scanned_ = 0;
        if (nl == line_start_ || received[nl - 1] != '\r') return {false, HeadProblem::bare_lf};
        std::size_t length = nl - 1 - line_start_;  // without CRLF
        std::size_t start = line_start_;
        line_start_ = nl + 1;
        if (!request_line_done_) {
            if (length > kRequestLineLimit) return {false, HeadProblem::request_line_too_long};
            request_line_done_ = true;
        } else if (length == 0) {
            if (line_start_ > kHeaderLimit) return {false, HeadProblem::head_too_long};
            return {true, HeadProblem::none};
        } else if (received[start] == ' ' || received[start] == '\t') {
            return {false, HeadProblem::obs_fold};  // also whitespace before the first field
        }
        if (line_start_ > kHeaderLimit) return {false, HeadProblem::head_too_long};
    }
}

namespace {

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool all_digits(std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

}  // namespace

std::optional<std::string_view> framing_problem(const bhttp::request_header<>& head) {
    auto lengths = head.equal_range(bhttp::field::content_length);
    auto length_fields = std::distance(lengths.first, lengths.second);
    if (length_fields > 1) return "more than one Content-Length";
    if (length_fields == 1 && !all_digits(trim_ows(lengths.first->value()))) {
        return "Content-Length is not a number";
    }
    auto codings = head.equal_range(bhttp::field::transfer_encoding);
    auto coding_fields = std::distance(codings.first, codings.second);
    if (coding_fields == 0) return std::nullopt;
    if (head.version() < 11) return "Transfer-Encoding in an HTTP/1.0 request";
    if (length_fields > 0) return "Transfer-Encoding with Content-Length";
    if (coding_fields > 1 || !boost::beast::iequals(trim_ows(codings.first->value()), "chunked")) {
        return "unsupported Transfer-Encoding (only chunked)";
    }
    return std::nullopt;
}

}  // namespace sbx::http
