// Two passes: a SAX pass (depth, number range, error position), then the DOM.
#include "api/json_body.h"

#include <sys/mman.h>

#include <boost/container/pmr/memory_resource.hpp>
#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parser.hpp>
#include <cmath>
#include <new>
#include <string>

#include "api/utf8.h"

namespace sbx::api {
namespace json = boost::json;
using boost::system::error_code;

namespace {

// Python's json.loads(bytes) decodes with utf-8-sig when the body starts with a BOM.
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// The handler interface boost::json::basic_parser requires (public state, unnamed params):
// NOLINTBEGIN(readability-named-parameter,readability-convert-member-functions-to-static)
// NOLINTBEGIN(misc-non-private-member-variables-in-classes)
// Checks what basic_parser does not: finite numbers. Sets `problem`. Duplicate keys are fine:
// the DOM keeps the last value at the first key's place, as a Python dict does.
struct CheckHandler {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);

    std::string problem;

    bool fail(std::string why, error_code& ec) {
        problem = std::move(why);
        ec = make_error_code(json::error::syntax);
        return false;
    }
    bool on_document_begin(error_code&) { return true; }
    bool on_document_end(error_code&) { return true; }
    bool on_array_begin(error_code&) { return true; }
    bool on_array_end(std::size_t, error_code&) { return true; }
    bool on_object_begin(error_code&) { return true; }
    bool on_object_end(std::size_t, error_code&) { return true; }
    bool on_string_part(json::string_view, std::size_t, error_code&) { return true; }
    bool on_string(json::string_view, std::size_t, error_code&) { return true; }
    bool on_key_part(json::string_view, std::size_t, error_code&) { return true; }
    bool on_key(json::string_view, std::size_t, error_code&) { return true; }
    bool on_number_part(json::string_view, error_code&) { return true; }
    bool on_int64(std::int64_t, json::string_view, error_code&) { return true; }
    bool on_uint64(std::uint64_t, json::string_view, error_code&) { return true; }
    bool on_double(double d, json::string_view, error_code& ec) {
        if (!std::isfinite(d)) return fail("Number out of range", ec);
        return true;
    }
    bool on_bool(bool, error_code&) { return true; }
    bool on_null(error_code&) { return true; }
    bool on_comment_part(json::string_view, error_code&) { return true; }
    bool on_comment(json::string_view, error_code&) { return true; }
};
// NOLINTEND(misc-non-private-member-variables-in-classes)
// NOLINTEND(readability-named-parameter,readability-convert-member-functions-to-static)

json::parse_options options() {
    json::parse_options opt;
    opt.max_depth = kMaxJsonDepth;
    return opt;
}

std::string reason_for(const error_code& ec) {
    if (ec == json::error::extra_data) return "Extra data";
    if (ec == json::error::too_deep) {
        return "Nesting too deep (maximum " + std::to_string(kMaxJsonDepth) + " levels)";
    }
    if (ec == json::error::exponent_overflow) return "Number out of range";
    if (ec == json::error::syntax || ec == json::error::incomplete) return "Expecting value";
    return ec.message();
}

// Memory straight from mmap: given back to the system when freed, never left in malloc's heap.
// For large documents only (few, large blocks); thread-safe (no state).
class MappedResource final : public boost::container::pmr::memory_resource {
    void* do_allocate(std::size_t bytes, std::size_t /*alignment: pages are enough*/) override {
        void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) throw std::bad_alloc();
        return p;
    }
    void do_deallocate(void* p, std::size_t bytes, std::size_t /*alignment*/) override {
        ::munmap(p, bytes);
    }
    [[nodiscard]] bool do_is_equal(const memory_resource& other) const noexcept override {
        return this == &other;
    }
};

// Bodies from this size have their document (and the parser's stack) in mapped memory.
constexpr std::size_t kMappedBodyBytes = std::size_t{1} << 20;
constexpr std::size_t kFirstBlockBytes = std::size_t{64} << 10;

// The DOM in one arena: a body of millions of small values costs a few large blocks, freed at
// once, instead of millions of small ones. For a large body the arena's blocks and the parser's
// temporary stack come from mmap, so its memory returns to the system as soon as the document
// is gone, without malloc_trim (which would hold the heap's lock) and without leaving the
// heap fragmented.
json::value build_document(std::string_view body, error_code& ec) {
    static MappedResource mapped;
    const bool large = body.size() >= kMappedBodyBytes;
    json::storage_ptr temp = large ? json::storage_ptr(&mapped) : json::storage_ptr();
    auto arena = json::make_shared_resource<json::monotonic_resource>(kFirstBlockBytes, temp);
    json::parser parser(temp, options());
    parser.reset(std::move(arena));
    parser.write(body.data(), body.size(), ec);
    if (ec) return nullptr;
    return parser.release();
}

}  // namespace

ApiResult<json::value> parse_json_body(std::string_view body) {
    if (auto bad = first_invalid_utf8(body)) {
        ApiError e = bad_request("There was an error parsing the body");  // FastAPI's text
        e.log_detail = "invalid UTF-8 at byte " + std::to_string(*bad);
        return e;
    }
    if (body.starts_with(kUtf8Bom)) body.remove_prefix(kUtf8Bom.size());
    json::basic_parser<CheckHandler> checker(options());
    error_code ec;
    std::size_t used = checker.write_some(false, body.data(), body.size(), ec);
    if (ec) {
        std::string reason =
            checker.handler().problem.empty() ? reason_for(ec) : checker.handler().problem;
        std::size_t pos = count_code_points(body.substr(0, std::min(used, body.size())));
        return validation_error({json_invalid(pos, reason)});
    }
    // write_some stops after one complete document: what follows must be whitespace only.
    std::size_t rest = body.find_first_not_of(" \t\r\n", used);
    if (rest != std::string_view::npos) {
        return validation_error(
            {json_invalid(count_code_points(body.substr(0, rest)), "Extra data")});
    }
    json::value value = build_document(body, ec);
    if (ec) return validation_error({json_invalid(0, reason_for(ec))});
    return value;
}

}  // namespace sbx::api
