// base64: encoding like Python's b64encode, decoding rules (padding, whitespace, bad input).
#include <gtest/gtest.h>

#include "api/base64.h"

namespace sbx::api {
namespace {

TEST(Base64Encode, MatchesPython) {
    EXPECT_EQ(base64_encode(""), "");
    EXPECT_EQ(base64_encode("f"), "Zg==");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    EXPECT_EQ(base64_encode("foo"), "Zm9v");
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode(std::string("\x00\xff\xfe", 3)), "AP/+");
}

TEST(Base64Decode, RoundTripsAllBytes) {
    std::string all;
    for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
    for (std::size_t n = 0; n < all.size(); n += 37) {
        auto part = all.substr(0, n);
        EXPECT_EQ(base64_decode(base64_encode(part)), part) << n;
    }
}

TEST(Base64Decode, AcceptsMissingPaddingAndWhitespace) {
    EXPECT_EQ(base64_decode("Zg"), "f");
    EXPECT_EQ(base64_decode("Zm8"), "fo");
    EXPECT_EQ(base64_decode("Zm9v\nYmFy\r\n"), "foobar");
    EXPECT_EQ(base64_decode(" Zg = = "), "f");
    EXPECT_EQ(base64_decode(""), "");
}

TEST(Base64Decode, RejectsBadInput) {
    EXPECT_FALSE(base64_decode("Z"));         // one dangling symbol
    EXPECT_FALSE(base64_decode("Zm9v!"));     // not in the alphabet
    EXPECT_FALSE(base64_decode("Zm9v-_"));    // URL-safe alphabet
    EXPECT_FALSE(base64_decode("Zg==Zg=="));  // data after padding
    EXPECT_FALSE(base64_decode("Zg==="));     // too much padding
    EXPECT_FALSE(base64_decode("Zm9v===="));  // padding on a full group
    EXPECT_FALSE(base64_decode("Zm8=="));     // wrong amount of padding
    EXPECT_FALSE(base64_decode("not base64!"));
}

}  // namespace
}  // namespace sbx::api
