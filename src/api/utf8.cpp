// UTF-8 decoding per Unicode Table 3-7 (well-formed byte sequences), used by all helpers here.
#include "api/utf8.h"

#include <cstdint>

namespace sbx::api {
namespace {

struct Decoded {
    char32_t cp = 0;
    std::size_t length = 1;  // bytes consumed; for invalid input: the maximal subpart (>= 1)
    bool valid = false;
};

// Decodes the sequence starting at s[i] (i < s.size()).
Decoded decode_one(std::string_view s, std::size_t i) noexcept {
    auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) return {b0, 1, true};
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    char32_t cp = 0;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1, cp = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2, cp = b0 & 0x0Fu;
        if (b0 == 0xE0) lo = 0xA0;  // no overlongs
        if (b0 == 0xED) hi = 0x9F;  // no surrogates
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3, cp = b0 & 0x07u;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;  // <= U+10FFFF
    } else {
        return {0, 1, false};
    }
    std::size_t len = 1;
    for (std::size_t k = 0; k < need; ++k, ++len) {
        if (i + len >= s.size()) return {0, len, false};
        auto b = static_cast<unsigned char>(s[i + len]);
        unsigned char min = k == 0 ? lo : 0x80, max = k == 0 ? hi : 0xBF;
        if (b < min || b > max) return {0, len, false};
        cp = (cp << 6) | (b & 0x3Fu);
    }
    return {cp, len, true};
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

bool is_python_space(char32_t c) noexcept {
    if ((c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20)) return true;
    if (c == 0x85 || c == 0xA0 || c == 0x1680) return true;
    if (c >= 0x2000 && c <= 0x200A) return true;
    return c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

}  // namespace

std::string sanitize_output(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (std::size_t i = 0; i < bytes.size();) {
        Decoded d = decode_one(bytes, i);
        if (!d.valid) {
            append_utf8(out, U'\uFFFD');
        } else if (d.cp != 0) {
            out.append(bytes.substr(i, d.length));
        }
        i += d.length;
    }
    return out;
}

std::optional<std::size_t> first_invalid_utf8(std::string_view bytes) noexcept {
    for (std::size_t i = 0; i < bytes.size();) {
        Decoded d = decode_one(bytes, i);
        if (!d.valid) return i;
        i += d.length;
    }
    return std::nullopt;
}

std::size_t count_code_points(std::string_view utf8) noexcept {
    std::size_t n = 0;
    for (char c : utf8) {
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    }
    return n;
}

bool is_blank(std::string_view utf8) noexcept {
    for (std::size_t i = 0; i < utf8.size();) {
        Decoded d = decode_one(utf8, i);
        if (!d.valid || !is_python_space(d.cp)) return false;
        i += d.length;
    }
    return true;
}

}  // namespace sbx::api
