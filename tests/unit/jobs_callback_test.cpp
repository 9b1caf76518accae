// Callback rules: URL parsing, the address policy (blocked ranges, NETWORK_ALLOW, this host),
// signatures, and the retry rule.
#include <gtest/gtest.h>

#include "jobs/callback_sender.h"
#include "jobs/callback_target.h"
#include "jobs/signature.h"

namespace sbx::jobs {
namespace {

namespace ip = boost::asio::ip;

TEST(CallbackUrl, SplitsHttpAndHttpsUrls) {
    std::string why;
    auto t = parse_callback_url("https://hooks.example.com/a/b?x=1", &why);
    ASSERT_TRUE(t) << why;
    EXPECT_TRUE(t->tls);
    EXPECT_EQ(t->host, "hooks.example.com");
    EXPECT_EQ(t->port, 443);
    EXPECT_EQ(t->target, "/a/b?x=1");
    t = parse_callback_url("http://[2001:db8::1]:8080", &why);
    ASSERT_TRUE(t) << why;
    EXPECT_EQ(t->host, "2001:db8::1");
    EXPECT_EQ(t->port, 8080);
    EXPECT_EQ(t->target, "/");
    t = parse_callback_url("http://example.com?q", &why);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->target, "/?q");
}

TEST(CallbackUrl, RefusesWhatIsNotAPlainHttpUrl) {
    for (const char* bad :
         {"ftp://x/", "http://", "http://u:p@x/", "http://x:0/", "http://x:99999/", "http://x/#f",
          "http://x/a b", "example.com", "file:///etc/passwd"}) {
        std::string why;
        EXPECT_FALSE(parse_callback_url(bad, &why)) << bad;
        EXPECT_FALSE(why.empty()) << bad;
    }
    EXPECT_FALSE(parse_callback_url("http://x/" + std::string(kMaxCallbackUrlBytes, 'a'), nullptr));
}

TEST(AddressPolicy, RefusesTheFirewallsBlockedRangesAndThisHost) {
    AddressPolicy policy({}, {ip::make_address("203.0.113.5")});
    for (const char* a : {"127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254",
                          "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1",
                          "64:ff9b::a00:1", "203.0.113.5"}) {
        EXPECT_TRUE(policy.refusal(ip::make_address(a), 80)) << a;
    }
    EXPECT_FALSE(policy.refusal(ip::make_address("192.0.2.1"), 80));
    EXPECT_FALSE(policy.refusal(ip::make_address("2001:db8::1"), 443));
    EXPECT_TRUE(policy.refusal(ip::make_address("192.0.2.1"), 25));  // mail, as the firewall
}

TEST(AddressPolicy, NetworkAllowOpensItsNetworkAndPortOnly) {
    std::string error;
    auto policy = AddressPolicy::from_config({"127.0.0.1:8081", "10.0.0.0/8"}, &error);
    ASSERT_TRUE(policy) << error;
    EXPECT_FALSE(policy->refusal(ip::make_address("127.0.0.1"), 8081));
    EXPECT_TRUE(policy->refusal(ip::make_address("127.0.0.1"), 8082));
    EXPECT_FALSE(policy->refusal(ip::make_address("10.9.9.9"), 1234));
    EXPECT_TRUE(policy->refusal(ip::make_address("169.254.169.254"), 80));
    EXPECT_FALSE(AddressPolicy::from_config({"not an entry"}, &error));
}

TEST(InNetwork, ComparesPrefixBits) {
    EXPECT_TRUE(in_network(ip::make_address("10.255.0.1"), "10.0.0.0/8"));
    EXPECT_FALSE(in_network(ip::make_address("11.0.0.1"), "10.0.0.0/8"));
    EXPECT_TRUE(in_network(ip::make_address("172.31.255.255"), "172.16.0.0/12"));
    EXPECT_FALSE(in_network(ip::make_address("172.32.0.0"), "172.16.0.0/12"));
    EXPECT_TRUE(in_network(ip::make_address("fe80::1"), "fe80::/10"));
    EXPECT_FALSE(in_network(ip::make_address("10.0.0.1"), "fe80::/10"));
    EXPECT_TRUE(in_network(ip::make_address("192.0.2.7"), "192.0.2.7/32"));
}

TEST(Signature, IsHexHmacSha256OfTheBody) {
    // RFC 4231 test case 2.
    EXPECT_EQ(sign_body("Jefe", "what do ya want for nothing?"),
              "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    EXPECT_NE(new_webhook_secret(), new_webhook_secret());
    EXPECT_EQ(new_webhook_secret().size(), 6u + 48u);
    EXPECT_EQ(new_job_id("j").size(), 25u);
}

TEST(CallbackRetry, TriesFiveTimesOnErrorsAnd5xxWithGrowingWaits) {
    EXPECT_EQ(callback_backoff(1), std::chrono::seconds(1));
    EXPECT_EQ(callback_backoff(2), std::chrono::seconds(4));
    EXPECT_EQ(callback_backoff(4), std::chrono::seconds(64));
    using S = store::CallbackState;
    EXPECT_EQ(judge_delivery({204, {}, false}, 1).state, S::delivered);
    EXPECT_EQ(judge_delivery({503, {}, false}, 1).state, S::pending);
    EXPECT_EQ(judge_delivery({429, {}, false}, 4).state, S::pending);
    EXPECT_EQ(judge_delivery({500, {}, false}, kMaxCallbackTries).state, S::failed);
    EXPECT_EQ(judge_delivery({std::nullopt, "connect: refused", false}, 2).state, S::pending);
    EXPECT_EQ(judge_delivery({404, {}, false}, 1).state, S::failed);
    EXPECT_EQ(judge_delivery({301, {}, false}, 1).state, S::failed);  // redirects not followed
    auto refused = judge_delivery({std::nullopt, "callback address refused: x", true}, 1);
    EXPECT_EQ(refused.state, S::failed);
    EXPECT_EQ(*refused.error, "callback address refused: x");
}

}  // namespace
}  // namespace sbx::jobs
