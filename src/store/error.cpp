// Store errors: names and rendering.
#include "store/error.h"

#include <stdexcept>

namespace sbx::store {

std::string_view to_string(StoreErrc code) noexcept {
    switch (code) {
        case StoreErrc::unavailable:
            return "unavailable";
        case StoreErrc::corrupt:
            return "corrupt";
        case StoreErrc::read_only:
            return "read_only";
        case StoreErrc::schema_too_new:
            return "schema_too_new";
        case StoreErrc::invalid:
            return "invalid";
        case StoreErrc::conflict:
            return "conflict";
        case StoreErrc::not_found:
            return "not_found";
        case StoreErrc::internal:
            return "internal";
    }
    return "?";
}

std::string StoreError::render() const {
    std::string out(to_string(code));
    if (!message.empty()) out += ": " + message;
    return out;
}

void throw_exception_from_error(const StoreError& e, const boost::source_location&) {
    throw std::runtime_error(e.render());
}

}  // namespace sbx::store
