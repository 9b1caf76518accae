// UTF-8 helpers: sanitizing like Python's decode("utf-8", "replace"), counting, blank check.
#include <gtest/gtest.h>

#include "api/utf8.h"

namespace sbx::api {
namespace {

TEST(SanitizeOutput, KeepsValidText) {
    EXPECT_EQ(sanitize_output("hello 世界 😀\n"), "hello 世界 😀\n");
}

TEST(SanitizeOutput, ReplacesInvalidAndDropsNul) {
    EXPECT_EQ(sanitize_output(std::string("a\0b", 3)), "ab");
    EXPECT_EQ(sanitize_output("a\xff"
                              "b"),
              "a\uFFFD"
              "b");
    // Maximal subparts: a truncated 3-byte sequence is one U+FFFD, like Python.
    EXPECT_EQ(sanitize_output("\xe4\xb8"
                              "x"),
              "\uFFFD"
              "x");
    EXPECT_EQ(sanitize_output("\xc0\xaf"), "\uFFFD\uFFFD");                      // overlong
    EXPECT_EQ(sanitize_output("\xed\xa0\x80"), "\uFFFD\uFFFD\uFFFD");            // surrogate
    EXPECT_EQ(sanitize_output("\xf4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");  // > U+10FFFF
    EXPECT_EQ(sanitize_output("end\xe4"), "end\uFFFD");
}

TEST(FirstInvalidUtf8, FindsOffset) {
    EXPECT_FALSE(first_invalid_utf8("ok 世界"));
    EXPECT_EQ(first_invalid_utf8("ab\xff"), 2u);
    EXPECT_EQ(first_invalid_utf8("\xe4\xb8"), 0u);
}

TEST(CountCodePoints, CountsCharactersNotBytes) {
    EXPECT_EQ(count_code_points(""), 0u);
    EXPECT_EQ(count_code_points("abc"), 3u);
    EXPECT_EQ(count_code_points("世界😀"), 3u);
}

TEST(IsBlank, PythonStripSemantics) {
    EXPECT_TRUE(is_blank(""));
    EXPECT_TRUE(is_blank(" \t\n\r\v\f"));
    EXPECT_TRUE(is_blank("\u3000\u00a0\u2028"));
    EXPECT_FALSE(is_blank(" x "));
    EXPECT_FALSE(is_blank("\u200b"));  // zero-width space is not whitespace for Python
}

}  // namespace
}  // namespace sbx::api
