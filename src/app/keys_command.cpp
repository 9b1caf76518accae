// pysandbox keys create | list | update | revoke: API keys in the configured store.
#include <boost/json.hpp>
#include <cstdio>
#include <ctime>

#include "app/commands.h"
#include "app/keys_args.h"
#include "app/log_setup.h"
#include "auth/key_fields.h"
#include "auth/key_format.h"
#include "config/load.h"
#include "config/parse.h"
#include "jobs/signature.h"
#include "store/open.h"

namespace sbx::app {
namespace {

namespace json = boost::json;
using auth::iso_time;
using auth::key_json;
using auth::limits_for_create;
using auth::network_text;

void print_key(const store::KeyRecord& k) {
    const auto& l = k.limits;
    std::printf("%-14s %-20s %-6s %10s %6u %5u %5u %10g %-8s %s%s\n", k.id.c_str(), k.name.c_str(),
                std::string(store::to_string(k.role)).c_str(),
                config::format_rate(l.rate_per_s).c_str(), l.burst, l.concurrency, l.sessions,
                l.cpu_seconds_per_day, network_text(l.network).c_str(),
                iso_time(k.created_us).c_str(),
                k.revoked_us ? (" revoked " + iso_time(*k.revoked_us)).c_str() : "");
}

int fail(const store::StoreError& e) {
    std::fprintf(stderr, "pysandbox keys: %s\n", e.render().c_str());
    return e.code == store::StoreErrc::not_found ? 3 : 1;
}

int create(store::Repository& repo, const KeysArgs& a) {
    for (int attempt = 0;; ++attempt) {
        auto made = auth::generate_key();
        store::KeyRecord k;
        k.id = made.id;
        k.name = *a.fields.name;
        k.role = a.fields.role.value_or(store::Role::user);
        k.key_hash = made.hash;
        k.limits = limits_for_create(a.fields);
        k.created_us = k.updated_us = store::now_us();
        auto r = repo.create_key(k);
        if (!r && r.error().code == store::StoreErrc::conflict && attempt < 3)
            continue;  // id clash
        if (!r) return fail(r.error());
        const auto secret = jobs::new_webhook_secret();
        if (auto s = repo.set_webhook_secret(k.id, secret, k.created_us); !s) {
            return fail(s.error());
        }
        if (a.json) {
            auto o = key_json(k);
            o["key"] = made.text;
            o["webhook_secret"] = secret;
            std::printf("%s\n", json::serialize(o).c_str());
        } else {
            std::printf("id: %s\nname: %s\nrole: %s\nkey: %s\nwebhook_secret: %s\n", k.id.c_str(),
                        k.name.c_str(), std::string(store::to_string(k.role)).c_str(),
                        made.text.c_str(), secret.c_str());
            std::fprintf(stderr, "The key is shown this once; only its hash is stored.\n");
        }
        return 0;
    }
}

// A new webhook secret for an existing key (the old one stops working at once).
int rotate_webhook_secret(store::Repository& repo, const KeysArgs& a) {
    auto key = repo.get_key(a.id);
    if (!key) return fail(key.error());
    if (!*key) return fail(store::StoreError{store::StoreErrc::not_found, "no key " + a.id});
    const auto secret = jobs::new_webhook_secret();
    if (auto s = repo.set_webhook_secret(a.id, secret, store::now_us()); !s) return fail(s.error());
    if (a.json) {
        const json::object o{{"id", a.id}, {"webhook_secret", secret}};
        std::printf("%s\n", json::serialize(o).c_str());
    } else {
        std::printf("webhook_secret: %s\n", secret.c_str());
    }
    return 0;
}

int list(store::Repository& repo, const KeysArgs& a) {
    auto keys = repo.list_keys(a.all);
    if (!keys) return fail(keys.error());
    if (a.json) {
        json::array arr;
        for (const auto& k : *keys) arr.push_back(key_json(k));
        std::printf("%s\n", json::serialize(arr).c_str());
        return 0;
    }
    std::printf("%-14s %-20s %-6s %10s %6s %5s %5s %10s %-8s %s\n", "ID", "NAME", "ROLE", "RATE",
                "BURST", "CONC", "SESS", "CPU/DAY", "NETWORK", "CREATED");
    for (const auto& k : *keys) print_key(k);
    return 0;
}

int change(store::Repository& repo, const KeysArgs& a) {
    auto r = a.action == KeysAction::revoke ? repo.revoke_key(a.id, store::now_us())
                                            : repo.update_key(a.id, a.fields, store::now_us());
    if (!r) return fail(r.error());
    if (a.json) {
        std::printf("%s\n", json::serialize(key_json(*r)).c_str());
    } else {
        print_key(*r);
    }
    return 0;
}

}  // namespace

int keys_command(const std::vector<std::string>& args) {
    if (!args.empty() && (args[0] == "--help" || args[0] == "help")) {
        std::fputs(kKeysUsage, stdout);
        return 0;
    }
    auto a = parse_keys_args(args);
    if (!a.error.empty()) {
        std::fprintf(stderr, "pysandbox keys: %s\n%s", a.error.c_str(), kKeysUsage);
        return 2;
    }
    auto loaded = config::load(config::Sources{a.config_flags, {}, std::filesystem::path(".env")});
    for (const auto& e : loaded.errors)
        std::fprintf(stderr, "pysandbox: invalid setting: %s\n", e.c_str());
    if (!loaded.errors.empty()) return 2;
    const auto& cfg = loaded.config;
    configure_log(cfg, /*quiet=*/true);
    auto opened = store::open_store({cfg.state_dir, cfg.database_url, 1});
    if (!opened) return fail(opened.error());
    auto& repo = *opened->repository;
    switch (a.action) {
        case KeysAction::create:
            return create(repo, a);
        case KeysAction::list:
            return list(repo, a);
        case KeysAction::update:
        case KeysAction::revoke:
            return change(repo, a);
        case KeysAction::webhook_secret:
            return rotate_webhook_secret(repo, a);
    }
    return 2;
}

}  // namespace sbx::app
