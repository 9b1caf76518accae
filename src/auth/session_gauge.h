// SessionGauge: live sessions per subject against its limit, with a handle that gives the place
// back. Counted on this replica: a session lives on one replica.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "auth/limit_decision.h"

namespace sbx::auth {

class SessionGauge;

// A counted session; its destructor (or release()) gives the place back. Move-only.
class SessionSlot {
   public:
    SessionSlot() = default;
    SessionSlot(SessionGauge* owner, std::string subject)
        : owner_(owner), subject_(std::move(subject)) {}
    SessionSlot(SessionSlot&& o) noexcept
        : owner_(std::exchange(o.owner_, nullptr)), subject_(std::move(o.subject_)) {}
    SessionSlot& operator=(SessionSlot&& o) noexcept;
    SessionSlot(const SessionSlot&) = delete;
    SessionSlot& operator=(const SessionSlot&) = delete;
    ~SessionSlot() { release(); }
    void release();
    [[nodiscard]] bool valid() const { return owner_ != nullptr; }

   private:
    SessionGauge* owner_ = nullptr;
    std::string subject_;
};

struct SessionAdmission {
    SessionSlot slot;  // valid when allowed
    LimitDecision decision;
};

// Thread-safe. Must outlive its slots.
class SessionGauge {
   public:
    // limit 0: no limit (counted all the same).
    SessionAdmission try_open(const std::string& subject, std::uint32_t limit);
    [[nodiscard]] std::uint32_t live(const std::string& subject) const;
    [[nodiscard]] std::uint64_t total() const;

   private:
    friend class SessionSlot;
    void close(const std::string& subject);
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::uint32_t> live_;
    std::uint64_t total_ = 0;
};

}  // namespace sbx::auth
