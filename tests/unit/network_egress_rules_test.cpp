// EgressRules: NETWORK_ALLOW parsing, resolv.conf reading and the rendered nft table.
#include "network/egress_rules.h"

#include <gtest/gtest.h>

#include "network/egress.h"

namespace sbx::network {
namespace {

TEST(ParseAllowEntry, TakesNetworksAddressesAndPorts) {
    auto net = parse_allow_entry("10.1.2.3/16");
    ASSERT_TRUE(net);
    EXPECT_EQ(net->network, "10.1.0.0/16");  // host bits cleared: nft refuses them otherwise
    EXPECT_FALSE(net->ipv6);
    EXPECT_FALSE(net->port);

    auto hostport = parse_allow_entry(" 192.0.2.7:5432 ");
    ASSERT_TRUE(hostport);
    EXPECT_EQ(hostport->network, "192.0.2.7/32");
    EXPECT_EQ(hostport->port, 5432);

    auto v6 = parse_allow_entry("[fd00::1]:80");
    ASSERT_TRUE(v6);
    EXPECT_TRUE(v6->ipv6);
    EXPECT_EQ(v6->network, "fd00::1/128");
    EXPECT_EQ(v6->port, 80);

    auto v6net = parse_allow_entry("fd12:3456::/32");
    ASSERT_TRUE(v6net);
    EXPECT_EQ(v6net->network, "fd12:3456::/32");
}

TEST(ParseAllowEntry, RefusesWhatIsNotAnAddress) {
    std::string why;
    EXPECT_FALSE(parse_allow_entry("10.0.0.0/33", &why));
    EXPECT_FALSE(parse_allow_entry("10.0.0.1:0", &why));
    EXPECT_EQ(why, "bad port");
    EXPECT_FALSE(parse_allow_entry("10.0.0.1:70000"));
    EXPECT_FALSE(parse_allow_entry("300.1.1.1"));
    EXPECT_FALSE(parse_allow_entry("10.0.0.1; drop"));  // nothing reaches the nft script raw
    EXPECT_FALSE(parse_allow_entry("[fd00::1"));
    EXPECT_FALSE(parse_allow_entry(""));
    EXPECT_FALSE(parse_allow_entry("db.internal:5432", &why));  // names: resolve_allow_entry
    EXPECT_NE(why.find("not an IP"), std::string::npos);
}

TEST(ResolveAllowEntry, ResolvesNamesOnceAndRefusesNamesWithoutPort) {
    auto local = resolve_allow_entry("localhost:8080");  // /etc/hosts: no network needed
    ASSERT_TRUE(local) << local.error().render();
    ASSERT_FALSE(local->empty());
    for (const auto& e : *local) EXPECT_EQ(e.port, 8080);
    auto bad = resolve_allow_entry("localhost");
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().detail.find("NETWORK_ALLOW"), std::string::npos);
}

TEST(ResolvConf, ReadsNameserversInOrder) {
    EXPECT_EQ(resolv_conf_nameservers("# comment\nsearch example\nnameserver 10.0.0.53\n"
                                      "nameserver  2001:db8::53 # v6\nnameserver bogus\n"),
              (std::vector<std::string>{"10.0.0.53", "2001:db8::53"}));
    EXPECT_TRUE(resolv_conf_nameservers("").empty());
}

TEST(RenderRuleset, MatchesOnlyTheStacksGidsAndBlocksBeforeTheDefaultAccept) {
    EgressRules r;
    r.table = "pysandbox_egress_t";
    r.gid_first = 1004096;
    r.gid_last = 1005119;
    r.allow = {*parse_allow_entry("10.9.0.0/16"), *parse_allow_entry("10.1.2.3:5432")};
    r.dns = {"10.255.255.53"};
    r.bandwidth_bytes = 1 << 20;
    r.max_connections = 16;
    const std::string t = render_ruleset(r);
    // Replaces a leftover table atomically, in one script.
    EXPECT_EQ(t.find("add table inet pysandbox_egress_t\ndelete table inet pysandbox_egress_t\n"), 0U);
    EXPECT_NE(t.find("meta skgid != 1004096-1005119 accept"), std::string::npos);
    const auto allow = t.find("ip daddr 10.9.0.0/16 goto out_new");
    const auto port = t.find("ip daddr 10.1.2.3/32 tcp dport 5432 goto out_new");
    const auto dns = t.find("ip daddr 10.255.255.53/32 udp dport 53 goto out_new");
    const auto local = t.find("fib daddr type local goto deny");
    const auto priv = t.find("10.0.0.0/8");
    ASSERT_NE(allow, std::string::npos);
    ASSERT_NE(port, std::string::npos);
    ASSERT_NE(dns, std::string::npos);
    ASSERT_NE(local, std::string::npos);
    ASSERT_NE(priv, std::string::npos);
    EXPECT_LT(allow, local);  // allowed entries come before the blocks
    EXPECT_LT(dns, local);
    EXPECT_LT(local, priv);
    for (const char* net : {"169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
                            "127.0.0.0/8", "fc00::/7", "fe80::/10"}) {
        EXPECT_NE(t.find(net), std::string::npos) << net;
    }
    EXPECT_NE(t.find("ct count over 16"), std::string::npos);
    EXPECT_NE(t.find("limit rate over 1024 kbytes/second"), std::string::npos);
    EXPECT_NE(t.find("hook input"), std::string::npos);  // downloads are bounded too
}

TEST(RenderRuleset, BoundsNewConnectionsPerRunAndShortensTheirConntrackLife) {
    EgressRules r;
    r.new_connections_rate = 30;
    r.new_connections_burst = 70;
    const std::string t = render_ruleset(r);
    // A new conntrack entry (not yet confirmed) spends the gid's token; later packets of a
    // flow do not. Over the rate: refused like a blocked address (TCP reset).
    EXPECT_NE(t.find("ct status != confirmed update @new_conns { meta skgid limit rate over "
                     "30/second burst 70 packets } goto deny"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("set new_conns { type gid; flags dynamic,timeout;"), std::string::npos);
    const auto chain = t.find("chain out_new {");
    const auto rate = t.find("update @new_conns");
    const auto count = t.find("add @conns");
    ASSERT_NE(chain, std::string::npos);
    EXPECT_LT(chain, rate);
    EXPECT_LT(rate, count);  // a refused connection never reaches the per-run count
    EXPECT_NE(t.find("ct timeout stack_tcp { protocol tcp; l3proto inet; policy = { syn_sent: 30, "
                     "syn_recv: 30, fin_wait: 30, close_wait: 30, last_ack: 30, time_wait: 10, "
                     "close: 10 }; }"),
              std::string::npos)
        << t;
    EXPECT_NE(t.find("ct timeout stack_udp { protocol udp; l3proto inet; policy = { unreplied: 10, "
                     "replied: 30 }; }"),
              std::string::npos);
    EXPECT_NE(t.find("meta l4proto tcp ct timeout set \"stack_tcp\""), std::string::npos);
    EXPECT_NE(t.find("meta l4proto udp ct timeout set \"stack_udp\""), std::string::npos);
    // Documented bound (docs/SECURITY.md): 2 x open + burst + 10 s x rate.
    r.max_connections = 64;
    EXPECT_EQ(conntrack_entries_per_run(r), 2U * 64 + 70 + 10 * 30);
}

TEST(RenderRuleset, BlocksMailUnlessAnAllowEntryComesFirst) {
    EgressRules r;
    r.allow = {*parse_allow_entry("192.0.2.25:587"), *parse_allow_entry("10.1.0.0/16")};
    const std::string t = render_ruleset(r);
    const auto mail = t.find("tcp dport { 25, 465, 587 } goto deny");
    ASSERT_NE(mail, std::string::npos) << t;
    EXPECT_LT(t.find("ip daddr 192.0.2.25/32 tcp dport 587 goto out_new"), mail);
    EXPECT_LT(t.find("ip daddr 10.1.0.0/16 goto out_new"), mail);
    EXPECT_LT(mail, t.rfind("goto out_new\n  }"));  // before the default way out
    EXPECT_NE(t.find("meta l4proto tcp reject with tcp reset"), std::string::npos);
}

TEST(RenderRuleset, BlocksTheSpecialPurposeRangesThatLeadBackToIpv4OrNowhere) {
    const std::string t = render_ruleset(EgressRules{});
    for (const char* net : {"64:ff9b::/96",  // NAT64 well-known prefix
                            "64:ff9b:1::/48", "2002::/16",  // 6to4
                            "2001::/32",                    // Teredo
                            "::/96", "::ffff:0.0.0.0/96", "100::/64", "100:0:0:1::/64",
                            "2001:2::/48", "2001:10::/28", "5f00::/16", "fec0::/10",
                            "192.88.99.0/24", "192.0.0.0/24", "198.18.0.0/15", "240.0.0.0/4"}) {
        const std::string n(net);  // an element of a set, not a prefix of a longer one
        EXPECT_TRUE(t.find(n + ",") != std::string::npos || t.find(n + " }") != std::string::npos)
            << net;
    }
    // Documentation prefixes route nowhere; the tests stand public hosts on them.
    for (const char* net : {"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"}) {
        EXPECT_EQ(t.find(net), std::string::npos) << net;
    }
}

TEST(RulesFromConfig, GidRangeFollowsTheUidBaseAndDnsFallsBackToTheHost) {
    config::Config cfg;
    cfg.sandbox_uid_base = 2000000;
    cfg.cgroup_prefix = "a-b";
    auto r = rules_from_config(cfg, "nameserver 192.0.2.53\n");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->gid_first, 2000000U + kGidOffset);
    EXPECT_EQ(r->gid_last, 2000000U + kGidOffset + kGidCount - 1);
    EXPECT_EQ(r->table, "pysandbox_egress_a_b");
    EXPECT_EQ(r->dns, (std::vector<std::string>{"192.0.2.53"}));
    cfg.network_dns = {"198.51.100.53"};
    EXPECT_EQ(rules_from_config(cfg, "nameserver 192.0.2.53\n")->dns, cfg.network_dns);
    EXPECT_EQ(r->new_connections_rate, 50U);
    EXPECT_EQ(r->new_connections_burst, 100U);
    cfg.network_new_connections_rate = 7;
    cfg.network_new_connections_burst = 9;
    EXPECT_EQ(rules_from_config(cfg, "")->new_connections_rate, 7U);
    EXPECT_EQ(rules_from_config(cfg, "")->new_connections_burst, 9U);
    cfg.network_dns = {"not-an-ip"};
    EXPECT_FALSE(rules_from_config(cfg, ""));
    cfg.network_dns.clear();
    cfg.network_allow = {"10.0.0.0/99"};
    EXPECT_FALSE(rules_from_config(cfg, ""));
}

TEST(RunResolvConf, PointsAtSlirpsForwarderOrTheConfiguredResolvers) {
    config::Config cfg;
    EXPECT_EQ(run_resolv_conf(cfg).find("nameserver"), std::string::npos);  // none: no resolver
    cfg.network_mode = config::NetworkMode::egress;
    EXPECT_EQ(run_resolv_conf(cfg), "nameserver 10.0.2.3\n");
    cfg.network_dns = {"192.0.2.1", "192.0.2.2"};
    EXPECT_EQ(run_resolv_conf(cfg), "nameserver 192.0.2.1\nnameserver 192.0.2.2\n");
}

}  // namespace
}  // namespace sbx::network
