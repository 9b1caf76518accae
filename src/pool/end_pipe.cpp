// End-pipe records: "KIND LEN\n" + payload, decoded incrementally within fixed limits.
#include "pool/end_pipe.h"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <charconv>

namespace sbx::pool {
namespace {

// "KIND SP LEN LF": the longest well-formed header.
constexpr std::size_t kMaxHeaderBytes = kMaxKindBytes + 1 + 20 + 1;

bool valid_kind(std::string_view kind) {
    if (kind.empty() || kind.size() > kMaxKindBytes) return false;
    for (const char c : kind) {
        if ((c < 'a' || c > 'z') && c != '_') return false;
    }
    return true;
}

}  // namespace

std::string encode_end_record(std::string_view kind, std::string_view payload) {
    std::string out(kind);
    out += ' ';
    out += std::to_string(payload.size());
    out += '\n';
    out += payload;
    return out;
}

std::string encode_end_status(int status) {
    return encode_end_record(kEndKind, "{\"status\":" + std::to_string(status) + "}");
}

std::optional<int> decode_end_status(std::string_view payload) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(payload, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto* status = v.as_object().if_contains("status");
    if (status == nullptr || !status->is_int64()) return std::nullopt;
    const auto n = status->as_int64();
    if (n < 0 || n > 255) return std::nullopt;
    return static_cast<int>(n);
}

void EndPipeDecoder::spoil() {
    spoiled_ = true;
    header_.clear();
    header_.shrink_to_fit();
    current_.reset();
}

bool EndPipeDecoder::parse_header() {
    // header_ ends with '\n'.
    const std::string_view h(header_.data(), header_.size() - 1);
    const auto sp = h.find(' ');
    if (sp == std::string_view::npos || !valid_kind(h.substr(0, sp))) return false;
    const auto len = h.substr(sp + 1);
    if (len.empty() || (len.size() > 1 && len.front() == '0')) return false;
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(len.data(), len.data() + len.size(), n);
    if (ec != std::errc{} || end != len.data() + len.size()) return false;
    if (n > limits_.max_record_bytes || total_ + n > limits_.max_total_bytes) return false;
    total_ += n;
    current_.emplace(EndRecord{std::string(h.substr(0, sp)), {}});
    current_->payload.reserve(static_cast<std::size_t>(n));
    want_ = static_cast<std::size_t>(n);
    header_.clear();
    return true;
}

void EndPipeDecoder::feed(std::string_view bytes) {
    while (!bytes.empty() && !spoiled_) {
        if (current_) {
            const auto n = std::min(want_, bytes.size());
            current_->payload.append(bytes.substr(0, n));
            bytes.remove_prefix(n);
            want_ -= n;
        } else {
            const auto nl = bytes.find('\n');
            const auto n = nl == std::string_view::npos ? bytes.size() : nl + 1;
            if (header_.size() + n > kMaxHeaderBytes) return spoil();
            header_.append(bytes.substr(0, n));
            bytes.remove_prefix(n);
            if (nl == std::string_view::npos) return;
            if (!parse_header()) return spoil();
        }
        if (current_ && want_ == 0) {
            done_.push_back(std::move(*current_));
            current_.reset();
        }
    }
}

std::vector<EndRecord> EndPipeDecoder::take() {
    std::vector<EndRecord> out;
    out.swap(done_);
    return out;
}

}  // namespace sbx::pool
