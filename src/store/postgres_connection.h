// PostgreSQL (libpq): a Connection to the server named by a postgresql:// URL.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "store/sql.h"

namespace sbx::store {

struct PostgresOptions {
    std::chrono::seconds connect_timeout{5};             // unless the URL sets connect_timeout
    std::chrono::milliseconds statement_timeout{30000};  // unless the URL sets options
};

// Connects; StoreErrc::unavailable when the server cannot be reached. The URL's own parameters
// win over the options.
Result<std::unique_ptr<Connection>> connect_postgres(const std::string& url,
                                                     const PostgresOptions& options = {});

// "postgresql://host:port/db" of a URL: the password and other parameters left out.
std::string describe_postgres_url(const std::string& url);

}  // namespace sbx::store
