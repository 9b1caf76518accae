// Async jobs in the store, both engines: leases that workers never share, expired leases taken
// again (attempts + 1), results, callbacks, batches.
#include <mutex>
#include <set>
#include <thread>

#include "store_fixture.h"

namespace sbx::testing {
namespace {

using store::JobRecord;
using store::JobState;

JobRecord make_job(int i, const std::string& key, store::TimeUs created) {
    JobRecord j;
    j.id = "j" + std::to_string(10000 + i);
    j.key_id = key;
    j.batch_id = "b1";
    j.batch_index = i;
    j.request = "{\"code\":\"print(" + std::to_string(i) + std::string(")\"}\0\xff", 5);
    j.created_us = j.updated_us = created + i;
    return j;
}

class Jobs : public StoreTest {};

TEST_P(Jobs, WorkersNeverShareALease) {
    std::vector<JobRecord> jobs;
    for (int i = 0; i < 300; ++i) jobs.push_back(make_job(i, "k", 1000));
    ASSERT_TRUE(repo().create_jobs(jobs));
    std::mutex mu;
    std::multiset<std::string> taken;
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w) {
        workers.emplace_back([&, w] {
            auto replica = location_->open(1);  // its own connection, as another replica
            const std::string owner = "worker" + std::to_string(w);
            for (;;) {
                auto got = replica.repository->lease_jobs(owner, 7, 60'000'000, store::now_us());
                if (!got) {
                    if (got.error().code == store::StoreErrc::unavailable) continue;  // busy
                    ADD_FAILURE() << got.error().render();
                    return;
                }
                if (got->empty()) return;
                std::lock_guard lock(mu);
                for (const auto& j : *got) {
                    taken.insert(j.id);
                    EXPECT_EQ(j.lease_owner, owner);
                    EXPECT_EQ(j.attempts, 1);
                    EXPECT_EQ(j.state, JobState::running);
                }
            }
        });
    }
    for (auto& t : workers) t.join();
    EXPECT_EQ(taken.size(), 300u);
    EXPECT_EQ(std::set<std::string>(taken.begin(), taken.end()).size(), 300u)
        << "a job leased twice";
}

TEST_P(Jobs, AnExpiredLeaseIsTakenAgainWithOneMoreAttempt) {
    const store::TimeUs t0 = 5'000'000;
    auto big = make_job(1, "k'; DROP TABLE jobs; --", 0);
    big.request += std::string(8 << 20, '\0') + "\xff\xfe'\"";  // any bytes, 8 MiB
    ASSERT_TRUE(repo().create_jobs(std::vector{big}));
    auto first = repo().lease_jobs("dead-replica", 10, 1'000'000, t0).value();
    ASSERT_EQ(first.size(), 1u);
    EXPECT_TRUE(repo().lease_jobs("other", 10, 1'000'000, t0 + 999'999).value().empty());
    auto second = repo().lease_jobs("other", 10, 1'000'000, t0 + 1'000'001).value();
    ASSERT_EQ(second.size(), 1u);
    EXPECT_EQ(second[0].attempts, 2);
    EXPECT_EQ(second[0].lease_owner, "other");
    EXPECT_EQ(second[0].request, first[0].request);
    EXPECT_EQ(first[0].request, big.request);
    // The first owner lost it: it can neither renew nor finish.
    EXPECT_FALSE(repo().renew_job_lease(second[0].id, "dead-replica", t0 + 9'000'000).value());
    EXPECT_FALSE(repo().finish_job(second[0].id, "dead-replica", JobState::done, "x", t0).value());
    EXPECT_TRUE(repo().renew_job_lease(second[0].id, "other", t0 + 9'000'000).value());
    const std::string result("{\"stdout\":\"1\\n\"}\0", 17);
    EXPECT_TRUE(repo().finish_job(second[0].id, "other", JobState::done, result, t0 + 2).value());
    auto done = repo().get_job(second[0].id, std::string("k'; DROP TABLE jobs; --")).value();
    ASSERT_TRUE(done);
    EXPECT_EQ(done->state, JobState::done);
    EXPECT_EQ(done->result, result);
    EXPECT_EQ(done->attempts, 2);
    EXPECT_FALSE(done->lease_owner);
    EXPECT_FALSE(repo().get_job(second[0].id, std::string("another-key")).value());
    EXPECT_TRUE(repo().lease_jobs("third", 10, 1'000'000, t0 + 99'000'000).value().empty());
}

TEST_P(Jobs, CallbacksAreDueRetriedAndDelivered) {
    auto j = make_job(1, "k", 0);
    j.callback_url = "http://127.0.0.1:9/hook?a='b'";
    ASSERT_TRUE(repo().create_jobs(std::vector{j}));
    auto plain = make_job(2, "k", 0);
    ASSERT_TRUE(repo().create_jobs(std::vector{plain}));
    ASSERT_EQ(repo().lease_jobs("w", 10, 1'000'000, 100).value().size(), 2u);
    ASSERT_TRUE(repo().finish_job(j.id, "w", JobState::failed, "{}", 200).value());
    ASSERT_TRUE(repo().finish_job(plain.id, "w", JobState::done, "{}", 200).value());

    auto due = repo().lease_callbacks("cb1", 10, 1'000'000, 300).value();
    ASSERT_EQ(due.size(), 1u);  // only the job with a URL
    EXPECT_EQ(due[0].callback_url, j.callback_url);
    EXPECT_TRUE(repo().lease_callbacks("cb2", 10, 1'000'000, 301).value().empty());  // leased
    ASSERT_TRUE(repo()
                    .record_callback(j.id, "cb1", store::CallbackState::pending, 5'000'000,
                                     std::string("HTTP 503"), 400)
                    .value());
    EXPECT_TRUE(repo().lease_callbacks("cb2", 10, 1'000'000, 4'999'999).value().empty());
    auto again = repo().lease_callbacks("cb2", 10, 1'000'000, 5'000'000).value();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].callback_attempts, 1);
    EXPECT_EQ(again[0].callback_error, "HTTP 503");
    EXPECT_FALSE(repo()
                     .record_callback(j.id, "cb1", store::CallbackState::delivered, std::nullopt,
                                      std::nullopt, 5'000'001)
                     .value());  // not cb1's any more
    ASSERT_TRUE(repo()
                    .record_callback(j.id, "cb2", store::CallbackState::delivered, std::nullopt,
                                     std::nullopt, 5'000'001)
                    .value());
    auto after = repo().get_job(j.id, std::nullopt).value();
    EXPECT_EQ(after->callback_state, store::CallbackState::delivered);
    EXPECT_EQ(after->callback_attempts, 2);
    EXPECT_TRUE(repo().lease_callbacks("cb3", 10, 1'000'000, 99'000'000).value().empty());

    auto batch = repo().list_batch("b1", std::string("k")).value();
    ASSERT_EQ(batch.size(), 2u);
    EXPECT_EQ(batch[0].batch_index, 1);
    EXPECT_TRUE(repo().list_batch("b1", std::string("not-k")).value().empty());

    store::RetentionPolicy p;
    p.jobs_before = 300;
    EXPECT_EQ(repo().prune(p).value().jobs, 2);
}

TEST_P(Jobs, AReleasedJobIsQueuedAgainWithoutCountingTheAttempt) {
    ASSERT_TRUE(repo().create_jobs(std::vector{make_job(1, "k", 0)}));
    auto got = repo().lease_jobs("busy", 10, 1'000'000, 100).value();
    ASSERT_EQ(got.size(), 1u);
    EXPECT_FALSE(repo().release_job(got[0].id, "someone-else", 150).value());
    EXPECT_TRUE(repo().release_job(got[0].id, "busy", 200).value());
    EXPECT_FALSE(repo().release_job(got[0].id, "busy", 201).value());  // not running any more
    auto again = repo().lease_jobs("free", 10, 1'000'000, 300).value();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].attempts, 1);  // the released attempt did not count
    EXPECT_EQ(again[0].lease_owner, "free");
}

TEST_P(Jobs, WebhookSecretsAreSetReplacedAndPerKey) {
    auto none = repo().get_webhook_secret("kA");
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, store::StoreErrc::not_found);
    ASSERT_TRUE(repo().set_webhook_secret("kA", "whsec_first", 1));
    ASSERT_TRUE(repo().set_webhook_secret("kB", "whsec_other", 1));
    EXPECT_EQ(repo().get_webhook_secret("kA").value(), "whsec_first");
    ASSERT_TRUE(repo().set_webhook_secret("kA", "whsec_second", 2));
    EXPECT_EQ(repo().get_webhook_secret("kA").value(), "whsec_second");
    EXPECT_EQ(repo().get_webhook_secret("kB").value(), "whsec_other");
}

SBX_BOTH_ENGINES(Jobs);

}  // namespace
}  // namespace sbx::testing
