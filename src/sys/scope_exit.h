// ScopeExit: runs a callable when the scope ends, unless dismissed (rollback of partial set-up).
#pragma once

#include <utility>

namespace sbx::sys {

template <class F>
class [[nodiscard]] ScopeExit {
public:
    explicit ScopeExit(F fn) noexcept : fn_(std::move(fn)) {}
    ScopeExit(const ScopeExit&) = delete;
    ScopeExit& operator=(const ScopeExit&) = delete;
    ScopeExit(ScopeExit&&) = delete;
    ScopeExit& operator=(ScopeExit&&) = delete;
    ~ScopeExit() {
        if (active_) fn_();
    }
    void dismiss() noexcept { active_ = false; }

private:
    F fn_;
    bool active_ = true;
};

}  // namespace sbx::sys
