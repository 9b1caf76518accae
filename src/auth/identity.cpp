// Identities of keys and of clients without one.
#include "auth/identity.h"

namespace sbx::auth {

Identity identity_of(const store::KeyRecord& key) {
    Identity id;
    id.subject = "key:" + key.id;
    id.key_id = key.id;
    id.name = key.name;
    id.role = key.role;
    id.limits = key.limits;
    return id;
}

Identity anonymous_identity(std::string_view address, const AnonLimits& limits) {
    Identity id;
    id.subject = "ip:" + std::string(address);
    id.name = std::string(address);
    id.limits.rate_per_s = limits.rate_per_s;
    id.limits.burst = limits.burst;
    id.limits.concurrency = limits.concurrency;
    id.limits.sessions = limits.sessions;
    id.limits.cpu_seconds_per_day = limits.cpu_seconds_per_day;
    return id;
}

}  // namespace sbx::auth
