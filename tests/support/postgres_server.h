// A throwaway PostgreSQL 15 cluster for tests: initdb + pg_ctl as the unprivileged `postgres`
// user in a temp dir, reachable on a unix socket in that dir only; stopped and removed after.
#pragma once

#include <string>

namespace sbx::testing {

class PostgresServer {
   public:
    // Makes and starts the cluster. Throws std::runtime_error (with PostgreSQL's log) when it
    // cannot: the test that needs it then fails, it does not skip.
    PostgresServer();
    ~PostgresServer();  // stops it and removes the dir
    PostgresServer(const PostgresServer&) = delete;
    PostgresServer& operator=(const PostgresServer&) = delete;

    void stop();   // pg_ctl stop -m fast (connections are cut)
    void start();  // starts it again on the same data

    // A new, empty database; returns its URL.
    std::string create_database(const std::string& name);
    // postgresql://postgres@/<db>?host=<dir>&port=<port>
    [[nodiscard]] std::string url(const std::string& database = "postgres") const;
    [[nodiscard]] const std::string& dir() const { return dir_; }

   private:
    void run(const std::string& command, const std::string& what) const;
    std::string dir_;
    int port_ = 5432;
    bool running_ = false;
};

// The one cluster of a test binary: started on first use, stopped when the binary ends.
PostgresServer& shared_postgres();

// A database name unique in this binary: "t1", "t2", ...
std::string fresh_database_name();

}  // namespace sbx::testing
