// Store records: names of the enums as stored, and the clock.
#include "store/types.h"

#include <cstdio>
#include <ctime>

namespace sbx::store {

TimeUs now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string utc_day(std::chrono::system_clock::time_point t) {
    std::time_t secs = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    return buf;
}

std::string_view to_string(Role r) noexcept { return r == Role::admin ? "admin" : "user"; }

std::optional<Role> role_from(std::string_view text) noexcept {
    if (text == "user") return Role::user;
    if (text == "admin") return Role::admin;
    return std::nullopt;
}

std::string_view to_string(JobState s) noexcept {
    switch (s) {
        case JobState::queued:
            return "queued";
        case JobState::running:
            return "running";
        case JobState::done:
            return "done";
        case JobState::failed:
            return "failed";
    }
    return "failed";
}

std::optional<JobState> job_state_from(std::string_view text) noexcept {
    for (auto s : {JobState::queued, JobState::running, JobState::done, JobState::failed}) {
        if (to_string(s) == text) return s;
    }
    return std::nullopt;
}

std::string_view to_string(CallbackState s) noexcept {
    switch (s) {
        case CallbackState::none:
            return "none";
        case CallbackState::pending:
            return "pending";
        case CallbackState::delivered:
            return "delivered";
        case CallbackState::failed:
            return "failed";
    }
    return "none";
}

}  // namespace sbx::store
