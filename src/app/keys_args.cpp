// Parsing of `pysandbox keys` arguments.
#include "app/keys_args.h"

#include <functional>
#include <map>

#include "auth/key_fields.h"

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
        auto err = auth::apply_key_field(a.fields, opt, value);
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
