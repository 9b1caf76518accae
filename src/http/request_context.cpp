// RequestContext helpers: log fields in order, path parameter lookup.
#include "http/request_context.h"

namespace sbx::http {

void LogFields::set(std::string_view key, std::string value) {
    for (auto& [k, v] : items_) {
        if (k == key) {
            v = std::move(value);
            return;
        }
    }
    items_.emplace_back(std::string(key), std::move(value));
}

std::string_view RequestContext::param(std::string_view name) const noexcept {
    for (const auto& [k, v] : params) {
        if (k == name) return v;
    }
    return {};
}

}  // namespace sbx::http
