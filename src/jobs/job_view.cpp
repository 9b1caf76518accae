// JSON views of jobs and batches, and the stored result format.
#include "jobs/job_view.h"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "api/health.h"

namespace sbx::jobs {
namespace json = boost::json;
namespace {

json::value time_of(std::optional<store::TimeUs> us) {
    if (!us) return nullptr;
    return json::string(
        api::utc_timestamp(std::chrono::system_clock::time_point(std::chrono::microseconds(*us))));
}

// The stored result as an object (empty when there is none or it is not JSON).
json::object result_of(const store::JobRecord& job) {
    if (!job.result) return {};
    boost::system::error_code ec;
    auto v = json::parse(*job.result, ec);
    if (ec || !v.is_object()) return {};
    return std::move(v.get_object());
}

std::optional<store::TimeUs> started_of(const store::JobRecord& job, const json::object& result) {
    if (const auto* s = result.if_contains("started_us"); s != nullptr && s->is_int64()) {
        return s->get_int64();
    }
    // While running: the lease was taken (updated_us) when this attempt started.
    if (job.state == store::JobState::running) return job.updated_us;
    return std::nullopt;
}

json::value response_of(const json::object& result) {
    if (const auto* r = result.if_contains("response")) return *r;
    return nullptr;
}

}  // namespace

std::string done_result(store::TimeUs started_us, const json::object& response) {
    return json::serialize(json::object{{"started_us", started_us}, {"response", response}});
}

std::string failed_result(std::optional<store::TimeUs> started_us, const std::string& error) {
    json::object o{{"error", error}};
    if (started_us) o["started_us"] = *started_us;
    return json::serialize(o);
}

json::object job_body(const store::JobRecord& job) {
    const auto result = result_of(job);
    json::object o;
    o["job_id"] = job.id;
    o["state"] = std::string(to_string(job.state));
    o["attempts"] = job.attempts;
    o["created_at"] = time_of(job.created_us);
    o["started_at"] = time_of(started_of(job, result));
    o["finished_at"] = time_of(job.finished_us);
    if (job.batch_id) {
        o["batch_id"] = *job.batch_id;
        o["batch_index"] = job.batch_index;
    }
    if (job.state == store::JobState::done) o["results"] = json::array{response_of(result)};
    if (job.state == store::JobState::failed) {
        const auto* e = result.if_contains("error");
        o["error"] = e != nullptr ? *e : json::value("job failed");
    }
    if (job.callback_url) {
        o["callback"] = json::object{{"url", *job.callback_url},
                                     {"state", std::string(to_string(job.callback_state))},
                                     {"attempts", job.callback_attempts},
                                     {"error", job.callback_error ? json::value(*job.callback_error)
                                                                  : json::value(nullptr)}};
    }
    return o;
}

json::object batch_body(std::span<const store::JobRecord> jobs) {
    json::object counts{{"queued", 0}, {"running", 0}, {"done", 0}, {"failed", 0}};
    json::array list;
    std::int64_t attempts = 0;
    std::optional<store::TimeUs> started, finished;
    for (const auto& j : jobs) {
        counts[to_string(j.state)] = counts[to_string(j.state)].as_int64() + 1;
        attempts = std::max(attempts, j.attempts);
        list.push_back(json::object{{"job_id", j.id},
                                    {"state", std::string(to_string(j.state))},
                                    {"attempts", j.attempts}});
        if (auto s = started_of(j, result_of(j))) started = std::min(started.value_or(*s), *s);
        if (j.finished_us) finished = std::max(finished.value_or(*j.finished_us), *j.finished_us);
    }
    const auto n = static_cast<std::int64_t>(jobs.size());
    const auto done = counts["done"].as_int64(), failed = counts["failed"].as_int64();
    const bool all_finished = done + failed == n;
    std::string state = counts["queued"].as_int64() == n ? "queued"
                        : !all_finished                  ? "running"
                        : failed > 0                     ? "failed"
                                                         : "done";
    json::object o;
    o["job_id"] = jobs.front().batch_id.value_or(jobs.front().id);
    o["state"] = state;
    o["attempts"] = attempts;
    o["created_at"] = time_of(jobs.front().created_us);
    o["started_at"] = time_of(started);
    o["finished_at"] = time_of(all_finished ? finished : std::nullopt);
    o["size"] = n;
    o["counts"] = std::move(counts);
    o["jobs"] = std::move(list);
    if (all_finished) {
        json::array results;
        for (const auto& j : jobs) results.push_back(response_of(result_of(j)));
        o["results"] = std::move(results);
    }
    return o;
}

}  // namespace sbx::jobs
