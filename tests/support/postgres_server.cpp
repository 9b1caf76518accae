// PostgresServer: shell commands to Debian's PostgreSQL 15 binaries, run as `postgres`.
#include "support/postgres_server.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

namespace sbx::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::unique_ptr<PostgresServer>& shared_slot() {
    static std::unique_ptr<PostgresServer> server;
    return server;
}

// Stops the shared cluster when the test binary ends.
class SharedPostgresCleanup : public ::testing::Environment {
   public:
    void TearDown() override { shared_slot().reset(); }
};
[[maybe_unused]] auto* const kCleanup =
    ::testing::AddGlobalTestEnvironment(new SharedPostgresCleanup);

}  // namespace

void PostgresServer::run(const std::string& command, const std::string& what) const {
    const std::string full = "runuser -u postgres -- " + command + " >>" + dir_ + "/cmd.log 2>&1";
    int status = std::system(full.c_str());
    if (status != 0) {
        throw std::runtime_error("PostgreSQL " + what + " failed (" + full + "):\n" +
                                 read_file(dir_ + "/cmd.log") + read_file(dir_ + "/pg.log"));
    }
}

PostgresServer::PostgresServer() {
    if (::geteuid() != 0) throw std::runtime_error("PostgresServer: needs root (runuser postgres)");
    char tmpl[] = "/tmp/sbx-pg-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (std::system(("chown postgres:postgres " + dir_).c_str()) != 0) {
        throw std::runtime_error("chown postgres " + dir_ + " failed");
    }
    run(std::string(kBin) + "initdb -D " + dir_ + "/data -A trust -U postgres -E UTF8 --no-sync",
        "initdb");
    start();
}

void PostgresServer::start() {
    // Unix socket only (no TCP port to collide with other tests); durability off: test data.
    run(std::string(kBin) + "pg_ctl -D " + dir_ + "/data -l " + dir_ + "/pg.log -w -t 60 -o \"-k " +
            dir_ + " -p " + std::to_string(port_) +
            " -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=200\" start",
        "start");
    running_ = true;
}

void PostgresServer::stop() {
    if (!running_) return;
    run(std::string(kBin) + "pg_ctl -D " + dir_ + "/data -m fast -w -t 60 stop", "stop");
    running_ = false;
}

PostgresServer::~PostgresServer() {
    try {
        stop();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

std::string PostgresServer::url(const std::string& database) const {
    return "postgresql://postgres@/" + database + "?host=" + dir_ +
           "&port=" + std::to_string(port_);
}

std::string PostgresServer::create_database(const std::string& name) {
    run(std::string(kBin) + "createdb -h " + dir_ + " -p " + std::to_string(port_) +
            " -U postgres -T template0 " + name,
        "createdb " + name);
    return url(name);
}

PostgresServer& shared_postgres() {
    auto& slot = shared_slot();
    if (!slot) slot = std::make_unique<PostgresServer>();
    return *slot;
}

std::string fresh_database_name() {
    static std::atomic<int> n{0};
    return "t" + std::to_string(++n);
}

}  // namespace sbx::testing
