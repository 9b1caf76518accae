// Parsing of `pysandbox keys` arguments.
#include "app/keys_args.h"

#include <functional>
#include <map>

#include "config/parse.h"

namespace sbx::app {

const char* const kKeysUsage =
    "usage: pysandbox keys create --name NAME [--role user|admin] [--rate 5/s] [--burst N]\n"
    "                             [--concurrency N] [--sessions N] [--cpu-per-day SECONDS]\n"
    "                             [--network yes|no|default] [--cap NAME=VALUE ...] [--json]\n"
    "       pysandbox keys list [--all] [--json]\n"
    "       pysandbox keys update ID [the options of create] [--cap none]\n"
    "       pysandbox keys revoke ID\n"
    "       pysandbox keys webhook-secret ID   (a new secret signing the key's job callbacks)\n"
    "Defaults for create: --rate 10/s --burst 20 --concurrency 2 --sessions 4 --cpu-per-day 3600\n"
    "(0 = no limit for each). Caps (--cap): memory_mb, cpu_seconds, processes, output_bytes,\n"
    "workdir_mb, timeout_s: a key's requests may not ask for more. The store is the one the\n"
    "settings name (STATE_DIR, DATABASE_URL; as flags too: --state-dir, --database-url).\n"
    "The key is printed once, at creation: only its SHA-256 hash is stored. Create also makes\n"
    "the key's webhook secret (X-Signature of its job callbacks; docs/API.md, \"Callbacks\").\n";

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

// One option with its value; returns an error, or "" when applied.
Err apply_option(KeysArgs& a, std::string_view opt, std::string_view v) {
    auto& f = a.fields;
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

KeysArgs parse_keys_args(const std::vector<std::string>& args) {
    KeysArgs a;
    auto fail = [&a](std::string message) {
        a.error = std::move(message);
        return a;
    };
    static const std::map<std::string_view, KeysAction> kActions = {
        {"create", KeysAction::create},
        {"list", KeysAction::list},
        {"update", KeysAction::update},
        {"revoke", KeysAction::revoke},
        {"webhook-secret", KeysAction::webhook_secret}};
    auto act = args.empty() ? kActions.end() : kActions.find(args[0]);
    if (act == kActions.end()) {
        return fail("which keys action: create, list, update, revoke or webhook-secret?");
    }
    a.action = act->second;
    std::size_t i = 1;
    if (a.action == KeysAction::update || a.action == KeysAction::revoke ||
        a.action == KeysAction::webhook_secret) {
        if (args.size() < 2 || args[1].starts_with("--")) return fail("which key id?");
        a.id = args[i++];
    }
    for (; i < args.size(); ++i) {
        std::string opt = args[i], value;
        if (opt == "--all" || opt == "--json") {
            (opt == "--all" ? a.all : a.json) = true;
            continue;
        }
        if (!opt.starts_with("--")) return fail("unexpected '" + opt + "'");
        if (auto eq = opt.find('='); eq != std::string::npos) {
            value = opt.substr(eq + 1);
            opt.resize(eq);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return fail(opt + " needs a value");
        }
        auto err = apply_option(a, opt, value);
        if (err == "?") {
            a.config_flags.push_back(opt);
            a.config_flags.push_back(value);
        } else if (!err.empty()) {
            return fail(err);
        }
    }
    if (a.action == KeysAction::create && !a.fields.name) a.error = "create needs --name";
    return a;
}

}  // namespace sbx::app
