// The end pipe's codec (runner -> server): framed records, read with bounded memory. Garbage
// spoils the stream for the rest of the run, nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sbx::pool {

// One record on the wire: a header line "KIND LEN\n" (KIND: 1-16 of [a-z_]; LEN: the payload's
// length in decimal, no leading zero) followed by LEN payload bytes. Kinds today:
//   end      {"status":N}   the program is over with exit status N (0-255); last record of a run
//   flushed  (empty)        the answer to the deadline's flush signal
// Later kinds (rich results, exception records, a session cell's end, streamed items) add a
// kind and a payload; a decoder passes every well-formed record on, the reader ignores kinds it
// does not know.
struct EndRecord {
    std::string kind;
    std::string payload;
};

inline constexpr std::string_view kEndKind = "end";
inline constexpr std::string_view kFlushedKind = "flushed";
inline constexpr std::size_t kMaxKindBytes = 16;

// Encodes one record (for tests and the fakes; the runner encodes in Python).
std::string encode_end_record(std::string_view kind, std::string_view payload);
std::string encode_end_status(int status);  // the "end" record for exit status `status`

// The exit status of an "end" record's payload ({"status":N}, 0 <= N <= 255), else nullopt.
std::optional<int> decode_end_status(std::string_view payload);

struct EndPipeLimits {
    std::size_t max_record_bytes = 64 * 1024;     // one record's payload; larger is refused
    std::uint64_t max_total_bytes = 16ULL << 20;  // all payloads of a run together
};

// Incremental decoder: feed() the bytes as read; complete records come out of take(). A header
// that is malformed, or announces a record over a limit, spoils the decoder: it buffers and
// returns nothing more (the program can write to the pipe; it only spoils its own run). Memory
// held: at most one header plus one record's payload.
class EndPipeDecoder {
   public:
    explicit EndPipeDecoder(EndPipeLimits limits = {}) : limits_(limits) {}
    void feed(std::string_view bytes);
    // The records completed so far, oldest first; clears them.
    std::vector<EndRecord> take();
    [[nodiscard]] bool spoiled() const { return spoiled_; }

   private:
    bool parse_header();
    void spoil();

    EndPipeLimits limits_;
    std::string header_;
    std::optional<EndRecord> current_;  // header read, payload being filled
    std::size_t want_ = 0;              // payload bytes still missing
    std::uint64_t total_ = 0;
    std::vector<EndRecord> done_;
    bool spoiled_ = false;
};

}  // namespace sbx::pool
