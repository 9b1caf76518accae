// Key fields as given on `pysandbox keys` (--rate 5/s ...) and to the admin API (the same names
// without "--"): validation, the defaults of a new key, and a key as JSON (never its hash).
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>

#include "store/types.h"

namespace sbx::auth {

// Applies `--name`, `--role`, `--rate`, `--burst`, `--concurrency`, `--sessions`,
// `--cpu-per-day`, `--network` (yes|no|default) or `--cap NAME=VALUE|none` to `fields`. Returns
// "" when applied, "?" when `option` is none of these, else what is wrong with the value.
std::string apply_key_field(store::KeyUpdate& fields, std::string_view option,
                            std::string_view value);

// The key a create makes from the fields given (the others take the defaults in keys --help).
store::KeyLimits limits_for_create(const store::KeyUpdate& fields);

// "2026-12-06T10:00:00Z".
std::string iso_time(store::TimeUs us);
// "yes", "no" or "default".
std::string network_text(const std::optional<bool>& network);
// {"id","name","role","rate_per_second","burst","concurrency","sessions","cpu_seconds_per_day",
//  "network","created","revoked"[,"caps"]}
boost::json::object key_json(const store::KeyRecord& key);

}  // namespace sbx::auth
