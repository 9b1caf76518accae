// Run protocol messages <-> JSON objects.
#include "pool/run_protocol.h"

#include <boost/json.hpp>

#include "pool/run_verdict.h"

namespace sbx::pool {
namespace json = boost::json;
using sys::Step;
using sys::SysError;

namespace {

SysError bad(std::string_view what) {
    return SysError{Step::run_protocol, EPROTO, std::string(what)};
}

std::string string_of(const json::object& b, std::string_view key) {
    const auto* v = b.if_contains(key);
    return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

template <class T>
std::optional<T> int_of(const json::object& b, std::string_view key) {
    const auto* v = b.if_contains(key);
    if (v == nullptr) return std::nullopt;
    if (v->is_int64()) return static_cast<T>(v->as_int64());
    if (v->is_uint64()) return static_cast<T>(v->as_uint64());
    return std::nullopt;
}

std::map<std::string, std::string> string_map(const json::object& b, std::string_view key) {
    std::map<std::string, std::string> out;
    if (const auto* v = b.if_contains(key); v != nullptr && v->is_object()) {
        for (const auto& [k, x] : v->as_object()) {
            out[std::string(k)] = x.is_string() ? std::string(x.as_string()) : json::serialize(x);
        }
    }
    return out;
}

json::object string_map_json(const std::map<std::string, std::string>& m) {
    json::object o;
    for (const auto& [k, v] : m) o[k] = v;
    return o;
}

bool has_type(const json::object& b, std::string_view type) {
    const auto* t = b.if_contains("type");
    return t != nullptr && t->is_string() && t->as_string() == type;
}

}  // namespace

json::object encode(const ZygoteReadyMessage& m) {
    json::array preloaded(m.preloaded.begin(), m.preloaded.end());
    return json::object{{"type", "ready"},
                        {"python", m.python},
                        {"preloaded", std::move(preloaded)},
                        {"failed", string_map_json(m.failed)},
                        {"packages", string_map_json(m.packages)},
                        {"seccomp_instructions", m.seccomp_instructions}};
}

json::object encode(const RunMessage& m) {
    json::array fds(m.fds.begin(), m.fds.end());
    return json::object{
        {"type", "run"},
        {"id", m.id},
        {"uid", m.uid},
        {"gid", m.gid},
        {"outer_uid", m.outer_uid},
        {"outer_gid", m.outer_gid},
        {"nproc", m.nproc},
        {"sigpending", m.sigpending},
        {"msgqueue", m.msgqueue},
        {"memlock", m.memlock},
        {"socket_buffer_max", m.socket_buffer_max},
        {"workdir_bytes", m.workdir_bytes},
        {"workdir_inodes", m.workdir_inodes},
        {"tmp_bytes", m.tmp_bytes},
        {"nofile", m.nofile},
        {"fsize", m.fsize},
        {"as_bytes", m.as_bytes},
        {"policy", m.policy},
        {"fds", std::move(fds)},
    };
}

json::object encode(const RunReadyMessage&) { return json::object{{"type", "ready"}}; }
json::object encode(const GoMessage&) { return json::object{{"type", "go"}}; }
json::object encode(const PolicyMessage& m) {
    return json::object{{"type", "policy"}, {"message", m.message}};
}

json::object encode(const ExitMessage& m) {
    json::object o{{"type", "exit"}, {"exit_code", nullptr}, {"signal", nullptr}};
    if (m.exit_code) o["exit_code"] = *m.exit_code;
    if (m.signal) o["signal"] = *m.signal;
    if (m.cpu_time_s) o["cpu_time"] = *m.cpu_time_s;
    return o;
}

json::object encode(const ErrorMessage& m) {
    return json::object{
        {"type", "error"}, {"step", m.step}, {"errno", m.err}, {"detail", m.detail}};
}

sys::Result<ZygoteReadyMessage> decode_zygote_ready(const json::object& b) {
    if (!has_type(b, "ready")) return SysError{Step::zygote_start, EPROTO, "not a ready message"};
    ZygoteReadyMessage m;
    m.python = string_of(b, "python");
    if (const auto* v = b.if_contains("preloaded"); v != nullptr && v->is_array()) {
        for (const auto& x : v->as_array()) {
            if (x.is_string()) m.preloaded.emplace_back(x.as_string());
        }
    }
    m.failed = string_map(b, "failed");
    m.packages = string_map(b, "packages");
    m.seccomp_instructions = int_of<std::uint32_t>(b, "seccomp_instructions").value_or(0);
    return m;
}

sys::Result<RunMessage> decode_run(const json::object& b) {
    if (!has_type(b, "run")) return bad("not a run message");
    RunMessage m;
    m.id = string_of(b, "id");
    m.uid = int_of<std::uint32_t>(b, "uid").value_or(0);
    m.gid = int_of<std::uint32_t>(b, "gid").value_or(0);
    m.outer_uid = int_of<std::uint32_t>(b, "outer_uid").value_or(0);
    m.outer_gid = int_of<std::uint32_t>(b, "outer_gid").value_or(0);
    for (auto [key, field] : {std::pair{"nproc", &m.nproc},
                              {"sigpending", &m.sigpending},
                              {"msgqueue", &m.msgqueue},
                              {"memlock", &m.memlock},
                              {"socket_buffer_max", &m.socket_buffer_max},
                              {"workdir_bytes", &m.workdir_bytes},
                              {"workdir_inodes", &m.workdir_inodes},
                              {"tmp_bytes", &m.tmp_bytes},
                              {"nofile", &m.nofile},
                              {"fsize", &m.fsize},
                              {"as_bytes", &m.as_bytes}}) {
        *field = int_of<std::uint64_t>(b, key).value_or(0);
    }
    m.policy = string_of(b, "policy");
    if (const auto* v = b.if_contains("fds"); v != nullptr && v->is_array()) {
        for (const auto& x : v->as_array()) {
            if (!x.is_string()) return bad("fds: not a name");
            m.fds.emplace_back(x.as_string());
        }
    }
    return m;
}

sys::Result<ErrorMessage> decode_error(const json::object& b) {
    if (!has_type(b, "error")) return bad("not an error message");
    return ErrorMessage{string_of(b, "step"), int_of<int>(b, "errno").value_or(0),
                        string_of(b, "detail")};
}

RunEvent decode_run_event(const Message& msg) {
    const auto& b = msg.body;
    const auto type = msg.type();
    if (type == "exit") {
        ExitMessage m;
        m.exit_code = int_of<int>(b, "exit_code");
        m.signal = int_of<int>(b, "signal");
        if (const auto* v = b.if_contains("cpu_time"); v != nullptr && v->is_number()) {
            m.cpu_time_s = v->to_number<double>();
        }
        return m;
    }
    if (type == "policy") {
        const auto* v = b.if_contains("message");
        return PolicyMessage{v != nullptr && v->is_string() ? std::string(v->as_string())
                                                            : "Security policy violation"};
    }
    if (type == "error") return setup_error_from(b);
    return std::monostate{};
}

}  // namespace sbx::pool
