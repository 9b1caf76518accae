// Service information endpoints: fixed root document, health report, runtime description.
#include "api/health.h"

#include <boost/json/array.hpp>
#include <cstdio>
#include <ctime>

namespace sbx::api {
namespace json = boost::json;

std::string utc_timestamp(std::chrono::system_clock::time_point t) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
    std::time_t secs = std::chrono::system_clock::to_time_t(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::seconds>(micros)));
    long long frac = micros.count() % 1000000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
    return buf;
}

json::object root_body() {
    return json::object{{"message", "SimplePySandbox API"},
                        {"version", SBX_VERSION},
                        {"docs", "/docs"},
                        {"health", "/health"}};
}

namespace {

json::object packages_of(const pool::HealthReport& r) {
    json::object packages;
    for (const auto& [name, version] : r.packages) packages[name] = version;
    return packages;
}

}  // namespace

json::object health_body(const pool::HealthReport& r, std::chrono::system_clock::time_point now) {
    json::array reasons;
    for (const auto& reason : r.reasons) reasons.emplace_back(reason);
    json::array layers;
    for (const auto& l : r.layers) {
        layers.push_back(
            json::object{{"name", l.name}, {"active", l.active}, {"detail", l.detail}});
    }
    json::object body;
    body["status"] = r.healthy ? "healthy" : "degraded";
    body["draining"] = r.draining;
    body["timestamp"] = utc_timestamp(now);
    body["reasons"] = std::move(reasons);
    body["layers"] = std::move(layers);
    body["run_mode"] = r.run_mode;
    body["runs"] = json::object{{"running", r.running},
                                {"queued", r.queued},
                                {"capacity", r.capacity},
                                {"queue_capacity", r.queue_capacity},
                                {"prepared", r.prepared}};
    body["python"] = json::object{{"version", r.python_version}, {"packages", packages_of(r)}};
    return body;
}

json::object runtime_body(const pool::HealthReport& r) {
    return json::object{{"python_version", r.python_version},
                        {"packages", packages_of(r)},
                        {"run_mode", r.run_mode}};
}

}  // namespace sbx::api
