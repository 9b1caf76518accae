// Key fields as given on `pysandbox keys` and to the admin API: parsing, defaults, JSON.
#include "auth/key_fields.h"

#include <boost/json.hpp>
#include <ctime>
#include <map>

#include "config/parse.h"

namespace sbx::auth {

namespace {

using Err = std::string;

std::optional<std::uint32_t> count(std::string_view t, std::uint32_t max) {
    auto v = config::parse_int(t);
    if (!v || *v < 0 || *v > max) return std::nullopt;
    return static_cast<std::uint32_t>(*v);
}

Err set_cap(store::KeyUpdate& f, std::string_view text) {
    if (text == "none") {
        f.caps = std::optional<store::LimitCaps>{};
        return {};
    }
    auto eq = text.find('=');
    if (eq == std::string_view::npos) return "--cap wants NAME=VALUE or none";
    auto name = text.substr(0, eq);
    auto value = text.substr(eq + 1);
    if (!f.caps || !*f.caps) f.caps = std::optional<store::LimitCaps>{store::LimitCaps{}};
    auto& caps = **f.caps;
    if (name == "cpu_seconds") {
        auto v = config::parse_double(value);
        if (!v || *v <= 0) return "--cap cpu_seconds wants a positive number";
        caps.cpu_seconds = *v;
        return {};
    }
    std::map<std::string_view, std::optional<std::int64_t>*> ints = {
        {"memory_mb", &caps.memory_mb},
        {"processes", &caps.processes},
        {"output_bytes", &caps.output_bytes},
        {"workdir_mb", &caps.workdir_mb},
        {"timeout_s", &caps.timeout_s}};
    auto it = ints.find(name);
    if (it == ints.end()) return "unknown cap '" + std::string(name) + "'";
    auto v = config::parse_int(value);
    if (!v || *v <= 0) return "--cap " + std::string(name) + " wants a positive integer";
    *it->second = *v;
    return {};
}

Err check_name(std::string_view name) {
    if (name.empty() || name.size() > 200) return "--name wants 1 to 200 bytes";
    for (unsigned char c : name) {
        if (c < 0x20 || c == 0x7F) return "--name must not hold control characters";
    }
    return {};
}

Err apply_field(store::KeyUpdate& f, std::string_view opt, std::string_view v) {
    if (opt == "--name") {
        if (auto e = check_name(v); !e.empty()) return e;
        f.name = std::string(v);
    } else if (opt == "--role") {
        auto r = store::role_from(v);
        if (!r) return "--role wants user or admin";
        f.role = *r;
    } else if (opt == "--rate") {
        auto r = config::parse_rate(v);
        if (!r || *r > 1e6) return "--rate wants a rate like 5/s, 300/m or 0 (no limit)";
        f.rate_per_s = *r;
    } else if (opt == "--burst" || opt == "--concurrency" || opt == "--sessions") {
        auto n = count(v, 1'000'000);
        if (!n) return std::string(opt) + " wants a whole number from 0 to 1000000";
        (opt == "--burst" ? f.burst : opt == "--concurrency" ? f.concurrency : f.sessions) = *n;
    } else if (opt == "--cpu-per-day") {
        auto s = config::parse_double(v);
        if (!s || *s < 0 || *s > 1e9) return "--cpu-per-day wants CPU-seconds, 0 or more";
        f.cpu_seconds_per_day = *s;
    } else if (opt == "--network") {
        if (v == "default") {
            f.network = std::optional<bool>{};
        } else if (auto b = config::parse_bool(v)) {
            f.network = std::optional<bool>{*b};
        } else {
            return "--network wants yes, no or default";
        }
    } else if (opt == "--cap") {
        return set_cap(f, v);
    } else {
        return "?";  // not one of ours: a setting
    }
    return {};
}

}  // namespace

std::string apply_key_field(store::KeyUpdate& fields, std::string_view option,
                            std::string_view value) {
    return apply_field(fields, option, value);
}

store::KeyLimits limits_for_create(const store::KeyUpdate& f) {
    store::KeyLimits l;
    l.rate_per_s = f.rate_per_s.value_or(10);
    l.burst = f.burst.value_or(20);
    l.concurrency = f.concurrency.value_or(2);
    l.sessions = f.sessions.value_or(4);
    l.cpu_seconds_per_day = f.cpu_seconds_per_day.value_or(3600);
    if (f.network) l.network = *f.network;
    if (f.caps) l.caps = *f.caps;
    return l;
}

std::string iso_time(store::TimeUs us) {
    std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string network_text(const std::optional<bool>& n) {
    return !n ? "default" : *n ? "yes" : "no";
}

boost::json::object key_json(const store::KeyRecord& k) {
    const auto& l = k.limits;
    boost::json::object o{{"id", k.id},
                   {"name", k.name},
                   {"role", store::to_string(k.role)},
                   {"rate_per_second", l.rate_per_s},
                   {"burst", l.burst},
                   {"concurrency", l.concurrency},
                   {"sessions", l.sessions},
                   {"cpu_seconds_per_day", l.cpu_seconds_per_day},
                   {"network", network_text(l.network)},
                   {"created", iso_time(k.created_us)},
                   {"revoked", k.revoked_us ? boost::json::value(iso_time(*k.revoked_us)) : nullptr}};
    if (l.caps) {
        boost::json::object caps;
        if (l.caps->memory_mb) caps["memory_mb"] = *l.caps->memory_mb;
        if (l.caps->cpu_seconds) caps["cpu_seconds"] = *l.caps->cpu_seconds;
        if (l.caps->processes) caps["processes"] = *l.caps->processes;
        if (l.caps->output_bytes) caps["output_bytes"] = *l.caps->output_bytes;
        if (l.caps->workdir_mb) caps["workdir_mb"] = *l.caps->workdir_mb;
        if (l.caps->timeout_s) caps["timeout_s"] = *l.caps->timeout_s;
        o["caps"] = std::move(caps);
    }
    return o;
}

}  // namespace sbx::auth
