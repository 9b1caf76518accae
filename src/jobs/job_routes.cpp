// Job routes: submission (validated, stored, 202) and status (one job or a batch).
#include "jobs/job_routes.h"

#include <boost/beast/http/field.hpp>
#include <boost/json/serialize.hpp>

#include "api/json_text.h"
#include "jobs/blocking.h"
#include "jobs/job_submission.h"
#include "jobs/job_view.h"
#include "jobs/signature.h"
#include "log/log.h"

namespace sbx::jobs {
namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
namespace json = boost::json;
using http::Reply;
using http::Request;
using http::RequestContext;
using http::Response;
namespace {

// The caller's API key id; nullopt without a key (the auth layer names anonymous callers with
// an empty key id).
std::optional<std::string> caller_key(const RequestContext& ctx) {
    if (ctx.identity && !ctx.identity->key_id.empty()) return ctx.identity->key_id;
    return std::nullopt;
}

Response store_down(const store::StoreError& e, const RequestContext& ctx) {
    log::error("job store unavailable", {{"req", ctx.id}, {"error", e.render()}});
    auto res = http::detail_response(bhttp::status::service_unavailable,
                                     "Service unavailable: the job store cannot be reached");
    res.set(bhttp::field::retry_after, "5");
    return res;
}

std::vector<store::JobRecord> records_of(const Submission& s,
                                         const std::optional<std::string>& key) {
    const auto now = store::now_us();
    const std::optional<std::string> batch =
        s.batch ? std::optional(new_job_id("b")) : std::nullopt;
    std::vector<store::JobRecord> jobs;
    jobs.reserve(s.bodies.size());
    for (std::size_t i = 0; i < s.bodies.size(); ++i) {
        store::JobRecord j;
        j.id = new_job_id("j");
        j.key_id = key;
        j.batch_id = batch;
        j.batch_index = static_cast<std::int64_t>(i);
        j.request = s.bodies[i];
        // A microsecond apart: workers take jobs oldest first, so a batch runs in its order.
        j.created_us = j.updated_us = now + static_cast<std::int64_t>(i);
        j.callback_url = s.callback_url;
        jobs.push_back(std::move(j));
    }
    return jobs;
}

Response accepted(const std::vector<store::JobRecord>& jobs) {
    json::object o;
    if (jobs.front().batch_id) {
        o["job_id"] = *jobs.front().batch_id;
        json::array ids;
        for (const auto& j : jobs) ids.emplace_back(j.id);
        o["job_ids"] = std::move(ids);
    } else {
        o["job_id"] = jobs.front().id;
    }
    return http::json_response(bhttp::status::accepted, api::to_json_text(o));
}

// A callback needs a secret to be signed with: refused at submission when there is none.
std::optional<std::string> secret_problem(JobsContext& c, const std::optional<std::string>& key) {
    if (!key) {
        if (!c.cfg.webhook_secret.empty()) return std::nullopt;
        return "callback_url needs a webhook secret: set WEBHOOK_SECRET on the server, or "
               "submit with an API key";
    }
    auto secret = c.repository.get_webhook_secret(*key);
    // Another error (store down) is create_jobs's to report.
    if (secret || secret.error().code != store::StoreErrc::not_found) return std::nullopt;
    return "callback_url needs a webhook secret for this key: pysandbox keys webhook-secret " +
           *key;
}

asio::awaitable<Reply> submit(JobsContext& c, const std::function<void()>& submitted,
                              RequestContext& ctx, Request req) {
    const auto key = caller_key(ctx);
    // Validation (JSON parsing, base64 of every file) and the insert block: the pool does them.
    using Outcome = std::variant<Response, std::vector<store::JobRecord>, store::StoreError>;
    auto outcome = co_await on_pool(c.blocking, [&c, &req, &key]() -> Outcome {
        auto sub = parse_submission(req[bhttp::field::content_type], req.body(), c.cfg, c.policy);
        if (!sub) return api::to_response(sub.error());
        if (sub->callback_url) {
            if (auto problem = secret_problem(c, key)) {
                return api::to_response(api::bad_request(*problem));
            }
        }
        auto jobs = records_of(*sub, key);
        if (auto created = c.repository.create_jobs(jobs); !created) return created.error();
        return jobs;
    });
    if (auto* res = std::get_if<Response>(&outcome)) co_return std::move(*res);
    if (auto* err = std::get_if<store::StoreError>(&outcome)) co_return store_down(*err, ctx);
    auto& jobs = std::get<std::vector<store::JobRecord>>(outcome);
    ctx.log.set("job", jobs.front().batch_id.value_or(jobs.front().id));
    ctx.log.set("jobs", std::to_string(jobs.size()));
    submitted();
    co_return accepted(jobs);
}

asio::awaitable<Reply> status(JobsContext& c, RequestContext& ctx, Request) {
    const std::string id(ctx.param("id"));
    const auto key = caller_key(ctx);
    using Found = store::Result<std::vector<store::JobRecord>>;
    auto found = co_await on_pool(c.blocking, [&c, &id, &key]() -> Found {
        if (id.starts_with("b")) return c.repository.list_batch(id, key);
        auto one = c.repository.get_job(id, key);
        if (!one) return one.error();
        std::vector<store::JobRecord> out;
        if (*one) out.push_back(std::move(**one));
        return out;
    });
    if (!found) co_return store_down(found.error(), ctx);
    // Without a key, only jobs submitted without one (the store's scope is by key).
    std::erase_if(*found, [&key](const store::JobRecord& j) { return j.key_id != key; });
    if (found->empty()) co_return http::detail_response(bhttp::status::not_found, "Job not found");
    json::object body = id.starts_with("b") ? batch_body(*found) : job_body(found->front());
    co_return http::json_response(bhttp::status::ok, api::to_json_text(body));
}

}  // namespace

void add_job_routes(http::Router& router, JobsContext& ctx, std::function<void()> submitted) {
    router.add(bhttp::verb::post, "/jobs",
               [&ctx, submitted = std::move(submitted)](RequestContext& rc, Request req) {
                   return submit(ctx, submitted, rc, std::move(req));
               });
    router.add(bhttp::verb::get, "/jobs/{id}",
               [&ctx](RequestContext& rc, Request req) { return status(ctx, rc, std::move(req)); });
}

}  // namespace sbx::jobs
