// SqlRepository, webhook secrets: the per-key HMAC keys of job callbacks.
#include "store/sql_repository.h"

namespace sbx::store {

Result<std::string> SqlRepository::get_webhook_secret(const std::string& key_id) {
    return db_.get<std::string>(Tx::none, [&](Connection& c) -> Result<std::string> {
        STORE_TRY(auto r,
                  c.query("SELECT secret FROM webhook_secrets WHERE key_id = $1", {Value{key_id}}));
        if (r.rows.empty()) return StoreError{StoreErrc::not_found, "no webhook secret"};
        return text_at(r.rows[0], 0);
    });
}

Result<void> SqlRepository::set_webhook_secret(const std::string& key_id, const std::string& secret,
                                               TimeUs now) {
    return db_.run(Tx::none, [&](Connection& c) -> Result<void> {
        STORE_TRY_VOID(
            c.query("INSERT INTO webhook_secrets (key_id, secret, updated_us) VALUES ($1, $2, $3) "
                    "ON CONFLICT (key_id) DO UPDATE SET secret = excluded.secret, "
                    "updated_us = excluded.updated_us",
                    {Value{key_id}, Value{secret}, Value{now}}));
        return {};
    });
}

}  // namespace sbx::store
