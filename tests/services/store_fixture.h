// Test stores on both engines: SQLite in a temp dir, PostgreSQL in a fresh database of the
// binary's shared cluster. Each test gets an empty store of its own.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "store/open.h"
#include "support/postgres_server.h"

namespace sbx::testing {

enum class Engine { sqlite, postgres };

std::string engine_name(const ::testing::TestParamInfo<Engine>& info);

// A temp dir removed with its contents at destruction.
class TempDir {
   public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

   private:
    std::filesystem::path path_;
};

// Where a test's store lives; open() may be called several times (replicas, reopening).
class StoreLocation {
   public:
    explicit StoreLocation(Engine engine);
    [[nodiscard]] store::StoreOptions options(unsigned connections = 4) const;
    // Opens (and migrates) a store there; fails the test on error.
    [[nodiscard]] store::Store open(unsigned connections = 4) const;
    [[nodiscard]] Engine engine() const { return engine_; }

   private:
    Engine engine_;
    std::unique_ptr<TempDir> dir_;
    std::string url_;
};

class StoreTest : public ::testing::TestWithParam<Engine> {
   protected:
    void SetUp() override {
        location_ = std::make_unique<StoreLocation>(GetParam());
        store_ = location_->open();
    }
    store::Repository& repo() { return *store_.repository; }
    store::Database& db() { return *store_.database; }
    std::unique_ptr<StoreLocation> location_;
    store::Store store_;
};

#define SBX_BOTH_ENGINES(suite)                                                              \
    INSTANTIATE_TEST_SUITE_P(                                                                \
        Engines, suite,                                                                      \
        ::testing::Values(::sbx::testing::Engine::sqlite, ::sbx::testing::Engine::postgres), \
        ::sbx::testing::engine_name)

}  // namespace sbx::testing
