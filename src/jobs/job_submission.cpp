// POST /jobs bodies: the batch's shape, each entry through /execute's validation.
#include "jobs/job_submission.h"

#include <boost/asio/ip/address.hpp>
#include <boost/json/serialize.hpp>

#include "api/execute_request.h"
#include "api/json_body.h"

namespace sbx::jobs {
namespace json = boost::json;
using api::ApiError;
using api::FieldError;
namespace {

// A pydantic entry built on a bounded echo of `input` (dict_type's), with its own texts.
FieldError entry(json::array loc, const json::value& input, std::string type, std::string msg,
                 std::optional<json::object> ctx) {
    FieldError e = api::dict_type(std::move(loc), input);
    e.type = std::move(type);
    e.msg = std::move(msg);
    e.ctx = std::move(ctx);
    return e;
}

std::optional<FieldError> batch_shape_error(const json::value& batch, const config::Config& cfg) {
    auto loc = api::body_loc({"batch"});
    if (!batch.is_array()) {
        return entry(loc, batch, "list_type", "Input should be a valid list", std::nullopt);
    }
    const auto n = batch.get_array().size();
    if (n == 0) {
        return entry(loc, batch, "too_short",
                     "List should have at least 1 item after validation, not 0",
                     json::object{{"field_type", "List"}, {"min_length", 1}, {"actual_length", 0}});
    }
    if (n > cfg.jobs_max_batch) {
        return entry(
            loc, batch, "too_long",
            "List should have at most " + std::to_string(cfg.jobs_max_batch) +
                " items after validation, not " + std::to_string(n),
            json::object{
                {"field_type", "List"}, {"max_length", cfg.jobs_max_batch}, {"actual_length", n}});
    }
    return std::nullopt;
}

std::optional<FieldError> callback_error(const json::value* url, const AddressPolicy& policy) {
    auto loc = api::body_loc({"callback_url"});
    if (url->is_null()) return std::nullopt;
    if (!url->is_string()) return api::string_type(loc, *url);
    std::string reason;
    auto target = parse_callback_url(url->get_string(), &reason);
    if (target) {
        boost::system::error_code ec;
        auto ip = boost::asio::ip::make_address(target->host, ec);
        if (!ec) {
            if (auto why = policy.refusal(ip, target->port))
                reason = "callback address refused: " + *why;
        }
    }
    if (reason.empty()) return std::nullopt;
    return entry(loc, *url, "value_error", "Value error, " + reason,
                 json::object{{"error", reason}});
}

// One /execute body: its errors with loc moved under ["body", "batch", i] when in a batch.
std::optional<ApiError> entry_error(const json::value& body, std::optional<std::size_t> index,
                                    const config::Config& cfg) {
    auto request = api::validate_execute_request(body, cfg);
    std::optional<ApiError> err;
    if (!request) {
        err = request.error();
    } else if (auto run = api::to_run_request(std::move(*request), cfg, ""); !run) {
        err = run.error();
    }
    if (!err || !index) return err;
    if (err->kind == api::ApiErrorKind::validation) {
        for (auto& e : err->errors) {
            json::array loc{"body", "batch", *index};
            for (std::size_t i = 1; i < e.loc.size(); ++i) loc.push_back(e.loc[i]);
            e.loc = std::move(loc);
        }
    } else {
        err->detail = "batch[" + std::to_string(*index) + "]: " + err->detail;
    }
    return err;
}

api::ApiResult<Submission> from_value(const json::value& v, const config::Config& cfg,
                                      const AddressPolicy& policy) {
    Submission s;
    const auto* obj = v.if_object();
    const json::value* batch = obj != nullptr ? obj->if_contains("batch") : nullptr;
    const json::value* url = obj != nullptr ? obj->if_contains("callback_url") : nullptr;
    std::vector<FieldError> shape;
    if (batch != nullptr) {
        if (auto e = batch_shape_error(*batch, cfg)) shape.push_back(std::move(*e));
    }
    if (url != nullptr) {
        if (auto e = callback_error(url, policy)) shape.push_back(std::move(*e));
        if (url->is_string()) s.callback_url = std::string(url->get_string());
    }
    if (!shape.empty()) return api::validation_error(std::move(shape));
    if (batch == nullptr) {
        if (auto e = entry_error(v, std::nullopt, cfg)) return *e;
        json::object single = *obj;  // (not an object: entry_error reported it)
        single.erase("callback_url");
        s.bodies.push_back(json::serialize(single));
        return s;
    }
    s.batch = true;
    const auto& items = batch->get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (auto e = entry_error(items[i], i, cfg)) return *e;
        s.bodies.push_back(json::serialize(items[i]));
    }
    return s;
}

}  // namespace

api::ApiResult<Submission> parse_submission(std::string_view content_type, std::string_view body,
                                            const config::Config& cfg,
                                            const AddressPolicy& policy) {
    if (body.empty()) return api::validation_error({api::missing(api::body_loc(), nullptr)});
    if (!api::is_json_content_type(content_type)) {
        return api::validation_error({api::model_attributes_type(body)});
    }
    auto parsed = api::parse_json_body(body);
    if (!parsed) return parsed.error();
    return from_value(*parsed, cfg, policy);
}

}  // namespace sbx::jobs
