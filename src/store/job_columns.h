// The jobs table's columns as SqlRepository reads them, shared by its statements.
#pragma once

#include <string_view>

#include "store/sql.h"
#include "store/types.h"

namespace sbx::store {

inline constexpr std::string_view kJobColumns =
    "id, key_id, batch_id, batch_index, state, request, result, attempts, lease_owner, "
    "lease_expires_us, created_us, updated_us, finished_us, callback_url, callback_state, "
    "callback_attempts, callback_next_us, callback_error";

// A row of kJobColumns.
JobRecord job_from_row(const Row& r);

}  // namespace sbx::store
