// Test stores: temp dirs and fresh PostgreSQL databases.
#include "store_fixture.h"

#include <stdlib.h>

namespace sbx::testing {

std::string engine_name(const ::testing::TestParamInfo<Engine>& info) {
    return info.param == Engine::sqlite ? "sqlite" : "postgres";
}

TempDir::TempDir() {
    char tmpl[] = "/tmp/sbx-store-test-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
}

TempDir::~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
}

StoreLocation::StoreLocation(Engine engine) : engine_(engine) {
    if (engine == Engine::sqlite) {
        dir_ = std::make_unique<TempDir>();
    } else {
        url_ = shared_postgres().create_database(fresh_database_name());
    }
}

store::StoreOptions StoreLocation::options(unsigned connections) const {
    store::StoreOptions o;
    if (engine_ == Engine::sqlite) {
        o.state_dir = dir_->path() / "state";
    } else {
        o.database_url = url_;
    }
    o.connections = connections;
    return o;
}

store::Store StoreLocation::open(unsigned connections) const {
    auto s = store::open_store(options(connections));
    if (!s) {
        ADD_FAILURE() << "open_store: " << s.error().render();
        throw std::runtime_error(s.error().render());
    }
    return std::move(*s);
}

}  // namespace sbx::testing
