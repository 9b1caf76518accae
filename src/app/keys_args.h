// Command line of `pysandbox keys ...`: the action, the key's fields, and the settings flags.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "auth/key_fields.h"
#include "store/types.h"

namespace sbx::app {

enum class KeysAction : std::uint8_t { create, list, update, revoke, webhook_secret };

struct KeysArgs {
    KeysAction action = KeysAction::list;
    std::string id;                         // update, revoke, webhook_secret
    store::KeyUpdate fields;                // create (defaults filled in), update
    bool all = false;                       // list: revoked keys too
    bool json = false;                      // machine-readable output
    std::vector<std::string> config_flags;  // --state-dir, --database-url, ...: to config::load
    std::string error;                      // non-empty: usage error
};

// args: what follows "keys". Validates ranges (rate, counts) and the name.
KeysArgs parse_keys_args(const std::vector<std::string>& args);

// The key a create makes from the fields given (auth::limits_for_create).
using auth::limits_for_create;

extern const char* const kKeysUsage;

}  // namespace sbx::app
