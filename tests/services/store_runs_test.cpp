// Run history in the store, both engines: batches, cursor paging, scopes, filters, hostile
// values, retention.
#include <set>

#include "store_fixture.h"

namespace sbx::testing {
namespace {

using store::RunQuery;
using store::RunRecord;

RunRecord make_run(int i, const std::string& key, const std::string& session = "") {
    RunRecord r;
    r.run_id = "r" + std::to_string(100000 + i);
    r.key_id = key;
    if (!session.empty()) r.session_id = session;
    r.started_us = 1'700'000'000'000'000 + (i / 3) * 1000;  // ties on purpose: run_id breaks them
    r.duration_us = 1500 + i;
    r.status = i % 5 == 0 ? "timeout" : "success";
    r.exit_code = i % 5 == 0 ? std::nullopt : std::optional<std::int64_t>(0);
    r.cpu_seconds = 0.01 * i;
    r.memory_peak_bytes = 1 << 20;
    r.code_bytes = 12;
    r.stdout_bytes = 3;
    return r;
}

// Every run the query sees, page by page, checking the order on the way.
std::vector<RunRecord> all_pages(store::Repository& repo, RunQuery q) {
    std::vector<RunRecord> out;
    for (int pages = 0; pages < 10000; ++pages) {
        auto page = repo.list_runs(q).value();
        for (auto& r : page.runs) {
            if (!out.empty()) {
                const auto& prev = out.back();
                EXPECT_TRUE(std::tie(r.started_us, r.run_id) <
                            std::tie(prev.started_us, prev.run_id))
                    << "not newest first at " << r.run_id;
            }
            out.push_back(std::move(r));
        }
        if (!page.next) return out;
        q.before = page.next;
    }
    ADD_FAILURE() << "paging does not end";
    return out;
}

class Runs : public StoreTest {};

TEST_P(Runs, PagesNewestFirstWithinScopeAndFilters) {
    std::vector<RunRecord> runs;
    for (int i = 0; i < 1200; ++i) {
        runs.push_back(make_run(i, i % 3 == 0 ? "ka" : "kb", i % 4 == 0 ? "s1" : ""));
    }
    EXPECT_EQ(repo().insert_runs(runs).value(), 1200u);
    EXPECT_EQ(repo().insert_runs(std::span(runs).first(10)).value(), 0u);  // retried batch

    RunQuery admin;
    admin.limit = 97;
    auto everything = all_pages(repo(), admin);
    EXPECT_EQ(everything.size(), 1200u);
    std::set<std::string> ids;
    for (const auto& r : everything) ids.insert(r.run_id);
    EXPECT_EQ(ids.size(), 1200u);

    RunQuery ka;
    ka.key_id = "ka";
    ka.limit = 50;
    auto mine = all_pages(repo(), ka);
    EXPECT_EQ(mine.size(), 400u);
    for (const auto& r : mine) EXPECT_EQ(r.key_id, "ka");

    ka.status = "timeout";
    for (const auto& r : all_pages(repo(), ka)) EXPECT_EQ(r.status, "timeout");
    EXPECT_EQ(all_pages(repo(), ka).size(), 80u);  // i % 15 == 0
    ka.status.reset();
    ka.session_id = "s1";
    EXPECT_EQ(all_pages(repo(), ka).size(), 100u);  // i % 12 == 0

    // Another key's run: not found, and not usable as a cursor (ids are not confirmed).
    EXPECT_TRUE(repo().get_run("r100000", std::string("ka")).value());
    EXPECT_FALSE(repo().get_run("r100001", std::string("ka")).value());
    EXPECT_TRUE(repo().get_run("r100001", std::nullopt).value());
    RunQuery cursor;
    cursor.key_id = "ka";
    cursor.before = "r100001";
    EXPECT_EQ(repo().list_runs(cursor).error().code, store::StoreErrc::invalid);
    EXPECT_EQ(repo().get_run("r100002", std::nullopt).value()->duration_us, 1502);
}

TEST_P(Runs, HostileFiltersMatchNothingAndHugeOutputsRoundTrip) {
    auto r = make_run(1, "k");
    r.session_id = "'; DELETE FROM runs; --";
    r.code = std::string("print('\0')\xff\xfe", 12) + std::string(3 << 20, 'c');
    r.stdout_text = std::string(1 << 20, '\0');
    r.stderr_text = std::string("\xed\xa0\x80 lone surrogate bytes");
    ASSERT_TRUE(repo().insert_runs(std::span(&r, 1)));
    auto got = repo().get_run(r.run_id, std::nullopt).value();
    ASSERT_TRUE(got);
    EXPECT_EQ(*got, r);

    for (std::string filter : {std::string("' OR '1'='1"), std::string("%"), std::string("*"),
                               std::string(1 << 20, '\''), std::string("$1")}) {
        RunQuery q;
        q.status = filter;
        EXPECT_TRUE(repo().list_runs(q).value().runs.empty()) << filter.substr(0, 20);
        q.status.reset();
        q.key_id = filter;
        EXPECT_TRUE(repo().list_runs(q).value().runs.empty());
        EXPECT_FALSE(repo().get_run(filter, std::nullopt).value());
    }
    RunQuery exact;
    exact.session_id = "'; DELETE FROM runs; --";
    EXPECT_EQ(repo().list_runs(exact).value().runs.size(), 1u);
    RunQuery bad;
    bad.session_id = std::string("\xff", 1);
    EXPECT_EQ(repo().list_runs(bad).error().code, store::StoreErrc::invalid);
}

TEST_P(Runs, RetentionByAgeAndByCount) {
    std::vector<RunRecord> runs;
    for (int i = 0; i < 300; ++i) runs.push_back(make_run(i, "k"));
    ASSERT_TRUE(repo().insert_runs(runs));
    store::RetentionPolicy age;
    age.runs_before = runs[150].started_us;  // i < 150 started before it
    age.chunk = 7;                           // many small deletes
    EXPECT_EQ(repo().prune(age).value().runs, 150);
    store::RetentionPolicy cap;
    cap.max_rows = 100;
    EXPECT_EQ(repo().prune(cap).value().runs, 50);
    RunQuery q;
    q.limit = 1000;
    auto left = repo().list_runs(q).value().runs;
    ASSERT_EQ(left.size(), 100u);
    EXPECT_EQ(left.front().run_id, "r100299");  // the newest stay
    EXPECT_EQ(left.back().run_id, "r100200");
    EXPECT_EQ(repo().prune(cap).value().runs, 0);
}

SBX_BOTH_ENGINES(Runs);

}  // namespace
}  // namespace sbx::testing
