// Run history: ids from the CSPRNG, records for the recorder, records as JSON.
#include "api/run_history.h"

#include <openssl/rand.h>

#include <array>
#include <stdexcept>

#include "api/health.h"
#include "api/utf8.h"
#include "metrics/metrics.h"
#include "store/history_recorder.h"

namespace sbx::api {

namespace json = boost::json;

std::string new_run_id() {
    static constexpr std::string_view kAlphabet =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    std::string id = "run_";
    // 128 bits as 22 base64url digits (6 bits each, the last one holding 2).
    unsigned acc = 0;
    int bits = 0;
    for (unsigned char b : bytes) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            id.push_back(kAlphabet[(acc >> bits) & 63U]);
        }
    }
    if (bits > 0) id.push_back(kAlphabet[(acc << (6 - bits)) & 63U]);
    return id;
}

namespace {

std::int64_t us(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::int64_t input_bytes(const sandbox::RunRequest& r) {
    std::int64_t n = 0;
    for (const auto& f : r.files) n += static_cast<std::int64_t>(f.content.size());
    return n;
}

// HISTORY=full text: at most `max` bytes, cut before a partial character, valid UTF-8 without
// NUL (both engines store it as text; PostgreSQL refuses NUL and invalid UTF-8).
std::string storable_text(std::string_view bytes, std::uint64_t max) {
    if (bytes.size() > max) {
        std::size_t cut = max;
        while (cut > 0 && (static_cast<unsigned char>(bytes[cut]) & 0xC0U) == 0x80U) --cut;
        bytes = bytes.substr(0, cut);
    }
    std::string text = sanitize_output(bytes);
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        if (c == '\0') {
            out += "\xEF\xBF\xBD";  // U+FFFD
        } else {
            out += c;
        }
    }
    return out;
}

store::RunRecord make_record(const config::Config& cfg, const RunFacts& f) {
    const auto& o = f.reply->outcome;
    store::RunRecord r;
    r.run_id = f.run_id;
    r.key_id = f.who->key_id;
    r.started_us = us(f.started);
    r.duration_us = o.execution_time.count();
    r.queue_wait_us = f.reply->queue_wait.count();
    r.status = std::string(f.status);
    if (o.exit_code) r.exit_code = *o.exit_code;
    if (o.signal) r.signal = *o.signal;
    r.cpu_seconds = o.cpu_time_s;
    if (o.memory_peak_bytes) r.memory_peak_bytes = static_cast<std::int64_t>(*o.memory_peak_bytes);
    r.code_bytes = f.input->code_bytes;
    r.input_bytes = f.input->input_bytes;
    r.stdout_bytes = static_cast<std::int64_t>(o.stdout_text.size());
    r.stderr_bytes = static_cast<std::int64_t>(o.stderr_text.size());
    r.output_files = static_cast<std::int64_t>(o.files.size());
    for (const auto& file : o.files) {
        r.output_files_bytes += static_cast<std::int64_t>(file.content.size());
    }
    if (cfg.history == config::HistoryMode::full) {  // the recorder truncates them
        r.code = f.input->code;
        r.stdout_text = storable_text(o.stdout_text, cfg.history_full_max_bytes);
        r.stderr_text = storable_text(o.stderr_text, cfg.history_full_max_bytes);
    }
    return r;
}

}  // namespace

RunInput run_input(const sandbox::RunRequest& request, const config::Config& cfg) {
    RunInput in;
    in.code_bytes = static_cast<std::int64_t>(request.code.size());
    in.input_bytes = input_bytes(request);
    if (cfg.history == config::HistoryMode::full) {
        in.code = storable_text(request.code, cfg.history_full_max_bytes);
    }
    return in;
}

void record_run(const Backends& b, const config::Config& cfg, const RunFacts& f) {
    if (b.metrics != nullptr) {
        b.metrics->run_finished(
            f.status, "python",
            std::chrono::duration<double>(f.reply->outcome.execution_time).count(),
            std::chrono::duration<double>(f.reply->queue_wait).count());
    }
    if (b.history == nullptr || cfg.history == config::HistoryMode::off) return;
    b.history->record(make_record(cfg, f));
}

namespace {

template <class T>
json::value opt(const std::optional<T>& v) {
    return v ? json::value(*v) : json::value(nullptr);
}

}  // namespace

json::object run_json(const store::RunRecord& r) {
    json::object o{{"run_id", r.run_id},
                   {"key_id", opt(r.key_id)},
                   {"session_id", opt(r.session_id)},
                   {"language", r.language},
                   {"started_at", utc_timestamp(std::chrono::system_clock::time_point(
                                      std::chrono::microseconds(r.started_us)))},
                   {"duration", static_cast<double>(r.duration_us) / 1e6},
                   {"queue_wait", static_cast<double>(r.queue_wait_us) / 1e6},
                   {"status", r.status},
                   {"exit_code", opt(r.exit_code)},
                   {"signal", opt(r.signal)},
                   {"cpu_time", opt(r.cpu_seconds)},
                   {"memory_peak", opt(r.memory_peak_bytes)},
                   {"code_bytes", r.code_bytes},
                   {"input_bytes", r.input_bytes},
                   {"stdout_bytes", r.stdout_bytes},
                   {"stderr_bytes", r.stderr_bytes},
                   {"output_files", r.output_files},
                   {"output_files_bytes", r.output_files_bytes}};
    if (r.code) o["code"] = *r.code;
    if (r.stdout_text) o["stdout"] = *r.stdout_text;
    if (r.stderr_text) o["stderr"] = *r.stderr_text;
    return o;
}

}  // namespace sbx::api
