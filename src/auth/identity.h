// Who a request is: a key (with its role and limits) or, without keys, a client address.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "store/types.h"

namespace sbx::auth {

// ANON_* settings: the limits of a client without a key, per address; 0 = no limit.
struct AnonLimits {
    double rate_per_s = 0;
    std::uint32_t burst = 0;
    std::uint32_t concurrency = 0;
    std::uint32_t sessions = 0;
    double cpu_seconds_per_day = 0;
};

struct Identity {
    // What limits are counted under: "key:<id>" or "ip:<address>". Shared by replicas.
    std::string subject;
    std::optional<std::string> key_id;  // nullopt: no key
    std::string name;                   // the key's name; the address without a key
    store::Role role = store::Role::user;
    store::KeyLimits limits;  // 0 = no limit, as in store::KeyLimits

    [[nodiscard]] bool is_admin() const { return key_id.has_value() && role == store::Role::admin; }
    // The scope of what it may see (runs, sessions, jobs): its key; nullopt for an admin (all).
    [[nodiscard]] std::optional<std::string> scope() const {
        return is_admin() ? std::nullopt : key_id;
    }
};

Identity identity_of(const store::KeyRecord& key);
Identity anonymous_identity(std::string_view address, const AnonLimits& limits);

}  // namespace sbx::auth
