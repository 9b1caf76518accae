// API key text: generation, parsing, hashing, constant-time comparison.
#include <gtest/gtest.h>

#include <set>

#include "auth/credentials.h"
#include "auth/key_format.h"

namespace sbx::auth {
namespace {

TEST(KeyFormat, GeneratedKeysAreWellFormedUniqueAndHashed) {
    std::set<std::string> texts, ids;
    for (int i = 0; i < 2000; ++i) {
        auto k = generate_key();
        ASSERT_EQ(k.text.size(), kKeyLength);
        EXPECT_TRUE(k.text.starts_with("psk_" + k.id + "_"));
        EXPECT_EQ(key_id_of(k.text), k.id);
        EXPECT_EQ(k.hash, sha256(k.text));
        EXPECT_EQ(k.hash.size(), 32u);
        EXPECT_EQ(k.text.find_first_not_of(
                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"),
                  std::string::npos)
            << "not URL-safe: " << k.text;
        texts.insert(k.text);
        ids.insert(k.id);
    }
    EXPECT_EQ(texts.size(), 2000u);
    EXPECT_EQ(ids.size(), 2000u);
}

TEST(KeyFormat, SecretsUseTheWholeAlphabet) {
    // 256 random bits per key: over many keys every base64url character shows up, at every
    // position but the last (which holds 4 bits).
    std::set<char> seen;
    for (int i = 0; i < 500; ++i) {
        auto k = generate_key();
        for (char c : k.text.substr(kKeyPrefix.size() + kIdLength + 1, kSecretLength - 1)) {
            seen.insert(c);
        }
    }
    EXPECT_EQ(seen.size(), 64u);
}

TEST(KeyFormat, ParsingRefusesAnythingElse) {
    auto k = generate_key();
    EXPECT_TRUE(key_id_of(k.text));
    EXPECT_FALSE(key_id_of(""));
    EXPECT_FALSE(key_id_of(k.text.substr(1)));
    EXPECT_FALSE(key_id_of(k.text + "x"));
    EXPECT_FALSE(key_id_of("psk_" + std::string(kKeyLength - 4, 'a')));  // no separator
    std::string upper_id = k.text;
    upper_id[5] = 'A';  // ids are lower-case base32
    EXPECT_FALSE(key_id_of(upper_id));
    std::string bad_secret = k.text;
    bad_secret.back() = '=';
    EXPECT_FALSE(key_id_of(bad_secret));
    std::string nul = k.text;
    nul[30] = '\0';
    EXPECT_FALSE(key_id_of(nul));
    EXPECT_FALSE(key_id_of("ghp_" + k.text.substr(4)));
}

TEST(KeyFormat, Sha256AndComparison) {
    // FIPS 180-2 test vector.
    EXPECT_EQ(to_hex(sha256("abc")),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const auto a = sha256("one"), b = sha256("two");
    EXPECT_TRUE(hashes_equal(a, a));
    EXPECT_FALSE(hashes_equal(a, b));
    EXPECT_FALSE(hashes_equal(a, a.substr(0, 31)));
    std::string last_differs = a;
    last_differs.back() = static_cast<char>(last_differs.back() ^ 1);
    EXPECT_FALSE(hashes_equal(a, last_differs));
}

TEST(Credentials, BearerOrXApiKey) {
    using S = CredentialSource;
    auto c = credential_from_headers("Bearer abc", std::nullopt);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->key, "abc");
    EXPECT_EQ(c->source, S::authorization_bearer);
    EXPECT_EQ(credential_from_headers("bearer \t abc \t", std::nullopt)->key, "abc");
    EXPECT_EQ(credential_from_headers("BEARER abc", std::nullopt)->key, "abc");
    // Bearer wins over X-API-Key; another scheme falls through to it.
    EXPECT_EQ(credential_from_headers("Bearer one", "two")->key, "one");
    auto basic = credential_from_headers("Basic dXNlcjpwYXNz", std::string_view("  k  "));
    ASSERT_TRUE(basic);
    EXPECT_EQ(basic->key, "k");
    EXPECT_EQ(basic->source, S::x_api_key);
    EXPECT_FALSE(credential_from_headers("Bearer", std::nullopt));
    EXPECT_FALSE(credential_from_headers("Bearer   ", std::nullopt));
    EXPECT_FALSE(credential_from_headers("Bearerabc", std::nullopt));
    EXPECT_FALSE(credential_from_headers("", ""));
    EXPECT_FALSE(credential_from_headers(std::nullopt, std::nullopt));
    EXPECT_FALSE(credential_from_headers("Basic x", " "));
}

}  // namespace
}  // namespace sbx::auth
