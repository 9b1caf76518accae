// Validation of the /execute body, field by field in the model's order (code, timeout, files).
#include "api/execute_request.h"

#include <algorithm>
#include <boost/beast/core/string.hpp>
#include <cctype>
#include <cmath>
#include <limits>
#include <variant>

#include "api/base64.h"
#include "api/filename.h"
#include "api/json_body.h"
#include "api/utf8.h"

namespace sbx::api {
namespace json = boost::json;

namespace {

constexpr std::size_t kMaxNameInMessage = 100;

// pydantic's str → int in lax mode: surrounding whitespace, a sign, digits, optionally a
// fraction of zeros only ("5.0"). Values beyond int64 saturate (they fail the range check).
std::optional<std::int64_t> parse_int_string(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    bool negative = !s.empty() && s.front() == '-';
    if (!s.empty() && (s.front() == '-' || s.front() == '+')) s.remove_prefix(1);
    if (auto dot = s.find('.'); dot != std::string_view::npos) {
        if (s.substr(dot + 1).find_first_not_of('0') != std::string_view::npos) return std::nullopt;
        s = s.substr(0, dot);
    }
    if (s.empty() || s.find_first_not_of("0123456789") != std::string_view::npos)
        return std::nullopt;
    constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
    std::int64_t v = 0;
    for (char c : s) {
        int digit = c - '0';
        v = v > (kMax - digit) / 10 ? kMax : v * 10 + digit;
    }
    return negative ? -v : v;
}

// The integer value of a timeout input, or the type error pydantic would report.
std::variant<std::int64_t, FieldError> timeout_value(const json::value& v) {
    auto loc = body_loc({"timeout"});
    switch (v.kind()) {
        case json::kind::int64:
            return v.get_int64();
        case json::kind::uint64:
            return std::numeric_limits<std::int64_t>::max();
        case json::kind::bool_:
            return v.get_bool() ? 1 : 0;
        case json::kind::double_: {
            double d = v.get_double();
            if (d != std::floor(d)) return int_from_float(std::move(loc), v);
            if (d >= 9.2e18) return std::numeric_limits<std::int64_t>::max();
            if (d <= -9.2e18) return std::numeric_limits<std::int64_t>::min();
            return static_cast<std::int64_t>(d);
        }
        case json::kind::string: {
            auto s = v.get_string();
            if (auto i = parse_int_string(std::string_view(s.data(), s.size()))) return *i;
            return int_parsing(std::move(loc), v);
        }
        case json::kind::null:
        case json::kind::array:
        case json::kind::object:
            return int_type(std::move(loc), v);
    }
    return int_type(std::move(loc), v);
}

std::optional<FieldError> check_timeout(const json::value& v, std::int64_t max, std::int64_t& out) {
    auto value = timeout_value(v);
    if (auto* e = std::get_if<FieldError>(&value)) return std::move(*e);
    out = std::get<std::int64_t>(value);
    if (out < 1) return greater_than_equal(body_loc({"timeout"}), v, 1);
    if (out > max) return less_than_equal(body_loc({"timeout"}), v, max);
    return std::nullopt;
}

// Entries a work dir needs beyond the files and their directories: its root and main.py.
constexpr std::uint64_t kFixedEntries = 2;

// Whether `files` (a JSON object) has more entries than the work directory can hold, whatever
// its directories: such a request is refused before its files are copied or decoded.
bool too_many_files(const json::object& files, const config::Config& cfg) {
    return files.size() + kFixedEntries > cfg.workdir_max_inodes;
}

// Sub-directories the names create (an inode each). Sorted, the names under one directory are
// adjacent, so a directory is new unless the previous name is under it too: no set of names.
std::size_t count_directories(std::vector<std::string_view> names) {
    std::sort(names.begin(), names.end());
    std::size_t dirs = 0;
    std::string_view previous;
    for (std::string_view n : names) {
        for (auto slash = n.find('/'); slash != std::string_view::npos;
             slash = n.find('/', slash + 1)) {
            if (!previous.starts_with(n.substr(0, slash + 1))) ++dirs;
        }
        previous = n;
    }
    return dirs;
}

ApiError too_many_files_error(std::size_t files, std::size_t dirs, const config::Config& cfg) {
    return bad_request("Too many input files: " + std::to_string(files) + " files and " +
                       std::to_string(dirs) + " directories (the work directory holds " +
                       std::to_string(cfg.workdir_max_inodes) + " entries)");
}

ApiError too_many_files_error(const json::object& files, const config::Config& cfg) {
    std::vector<std::string_view> names;
    names.reserve(files.size());
    for (const auto& kv : files) names.emplace_back(kv.key().data(), kv.key().size());
    return too_many_files_error(files.size(), count_directories(std::move(names)), cfg);
}

void check_files(const json::value& v, const config::Config& cfg, ExecuteRequest& out,
                 ErrorList& errors) {
    if (v.is_null()) return;  // Optional: None means no files
    if (!v.is_object()) {
        errors.add(dict_type(body_loc({"files"}), v));
        return;
    }
    const bool refused = too_many_files(v.get_object(), cfg);
    for (const auto& kv : v.get_object()) {
        std::string_view name(kv.key().data(), kv.key().size());
        if (!kv.value().is_string()) {
            if (errors.full()) {
                errors.omit();  // one per key: building entries here is what a flood costs
            } else {
                errors.add(string_type(body_loc({"files", name}), kv.value()));
            }
            continue;
        }
        if (refused || !errors.empty()) continue;  // the request fails: no need to copy
        const auto& content = kv.value().get_string();
        out.files.emplace_back(std::string(name), std::string(content.data(), content.size()));
    }
}

std::string quoted_name(std::string_view name) {
    if (name.size() <= kMaxNameInMessage) return "'" + std::string(name) + "'";
    return "'" + sanitize_output(name.substr(0, kMaxNameInMessage)) + "...'";
}

std::optional<std::string> file_problem(const std::string& name, const std::string& b64,
                                        const config::Config& cfg, std::string& decoded) {
    if (auto why = filename_problem(name))
        return "Invalid file name " + quoted_name(name) + ": " + *why;
    auto bytes = base64_decode(b64);
    if (!bytes) return "Invalid base64 content for file " + quoted_name(name);
    if (bytes->size() > cfg.max_file_size) {
        return "File too large: " + quoted_name(name) + " is " + std::to_string(bytes->size()) +
               " bytes (maximum " + std::to_string(cfg.max_file_size) + ")";
    }
    decoded = std::move(*bytes);
    return std::nullopt;
}

// A file and a directory of the same name cannot both be written: said now, not as a failed
// run after a prepared sandbox was spent on it.
std::optional<NameConflict> input_name_conflict(const std::vector<sandbox::InputFile>& files) {
    std::vector<std::string_view> names;
    names.reserve(files.size());
    for (const auto& f : files) names.emplace_back(f.name);
    return filename_conflict(names);
}

}  // namespace

ApiResult<ExecuteRequest> validate_execute_request(const json::value& body,
                                                   const config::Config& cfg) {
    if (!body.is_object()) return validation_error({model_attributes_type(body)});
    const json::object& obj = body.get_object();
    ExecuteRequest out;
    out.timeout_s = cfg.sandbox_timeout_s;
    ErrorList errors;
    if (const json::value* code = obj.if_contains("code"); code == nullptr) {
        errors.add(missing(body_loc({"code"}), body));
    } else if (!code->is_string()) {
        errors.add(string_type(body_loc({"code"}), *code));
    } else {
        out.code = std::string(code->get_string().data(), code->get_string().size());
    }
    if (const json::value* t = obj.if_contains("timeout")) {
        if (auto e = check_timeout(*t, cfg.max_timeout_s, out.timeout_s)) errors.add(std::move(*e));
    }
    const json::value* files = obj.if_contains("files");
    if (files != nullptr) check_files(*files, cfg, out, errors);
    if (const json::value* n = obj.if_contains("network"); n != nullptr && !n->is_null()) {
        if (n->is_bool()) {
            out.network = n->get_bool();
        } else {
            errors.add(bool_type(body_loc({"network"}), *n));
        }
    }
    if (!errors.empty()) return validation_error(std::move(errors));
    if (files != nullptr && files->is_object() && too_many_files(files->get_object(), cfg)) {
        return too_many_files_error(files->get_object(), cfg);
    }
    return out;
}

ApiResult<sandbox::RunRequest> to_run_request(ExecuteRequest request, const config::Config& cfg,
                                              std::string request_id) {
    // The original service's texts, word for word: clients match on them.
    if (is_blank(request.code)) return bad_request("代码不能为空");
    if (count_code_points(request.code) > cfg.max_code_length) {
        return bad_request("代码长度不能超过 " + std::to_string(cfg.max_code_length) + " 字符");
    }
    // A request may give up network access for its run, never ask for more than the server has.
    if (request.network.value_or(false) && cfg.network_mode == config::NetworkMode::none) {
        return bad_request("Network access is disabled on this server (NETWORK_MODE=none); "
                           "\"network\": true cannot be granted");
    }
    sandbox::RunRequest run;
    std::uint64_t total = request.code.size();  // main.py is written to the work dir too
    for (auto& [name, b64] : request.files) {
        std::string decoded;
        if (auto problem = file_problem(name, b64, cfg, decoded))
            return bad_request(std::move(*problem));
        total += decoded.size();
        run.files.push_back(sandbox::InputFile{std::move(name), std::move(decoded)});
    }
    if (auto conflict = input_name_conflict(run.files)) {
        return bad_request("Invalid file name " + quoted_name(conflict->name) + ": " +
                           conflict->reason);
    }
    // The work dir is a tmpfs of WORKDIR_SIZE_LIMIT bytes and WORKDIR_MAX_FILES inodes: inputs
    // that cannot fit are the request's fault, said before any sandbox is used.
    if (total > cfg.workdir_size_bytes) {
        return bad_request("Input files too large: " + std::to_string(total) +
                           " bytes with main.py (the work directory holds " +
                           std::to_string(cfg.workdir_size_bytes) + ")");
    }
    std::vector<std::string_view> names;
    names.reserve(run.files.size());
    for (const auto& f : run.files) names.emplace_back(f.name);
    std::size_t dirs = count_directories(std::move(names));
    if (run.files.size() + dirs + kFixedEntries > cfg.workdir_max_inodes) {
        return too_many_files_error(run.files.size(), dirs, cfg);
    }
    run.request_id = std::move(request_id);
    run.code = std::move(request.code);
    run.timeout = std::chrono::seconds(request.timeout_s);
    run.network = request.network;
    return run;
}

bool is_json_content_type(std::string_view content_type) {
    if (content_type.empty()) return true;
    auto mime = content_type.substr(0, content_type.find(';'));
    while (!mime.empty() && mime.back() == ' ') mime.remove_suffix(1);
    while (!mime.empty() && mime.front() == ' ') mime.remove_prefix(1);
    if (!boost::beast::iequals(mime.substr(0, 12), "application/")) return false;
    auto sub = mime.substr(12);
    return boost::beast::iequals(sub, "json") ||
           (sub.size() >= 5 && boost::beast::iequals(sub.substr(sub.size() - 5), "+json"));
}

ApiResult<sandbox::RunRequest> parse_execute_body(std::string_view content_type,
                                                  std::string_view body, const config::Config& cfg,
                                                  std::string request_id) {
    if (body.empty()) return validation_error({missing(body_loc(), nullptr)});
    if (!is_json_content_type(content_type)) {
        return validation_error({model_attributes_type(body)});
    }
    auto parsed = parse_json_body(body);
    if (!parsed) return parsed.error();
    auto request = validate_execute_request(*parsed, cfg);
    if (!request) return request.error();
    return to_run_request(std::move(*request), cfg, std::move(request_id));
}

}  // namespace sbx::api
