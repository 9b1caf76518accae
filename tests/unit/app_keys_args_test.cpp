// `pysandbox keys` arguments: actions, fields, ranges, settings flags passed through.
#include <gtest/gtest.h>

#include "app/keys_args.h"

namespace sbx::app {
namespace {

TEST(KeysArgs, CreateWithEveryOption) {
    auto a = parse_keys_args(
        {"create", "--name",          "alice",       "--rate",       "5/s",   "--burst",
         "20",     "--concurrency",   "2",           "--sessions",   "4",     "--cpu-per-day",
         "3600",   "--role",          "admin",       "--network=no", "--cap", "memory_mb=256",
         "--cap",  "cpu_seconds=1.5", "--state-dir", "/tmp/x",       "--json"});
    ASSERT_EQ(a.error, "");
    EXPECT_EQ(a.action, KeysAction::create);
    EXPECT_EQ(a.fields.name, "alice");
    EXPECT_EQ(a.fields.role, store::Role::admin);
    EXPECT_TRUE(a.json);
    auto l = limits_for_create(a.fields);
    EXPECT_EQ(l.rate_per_s, 5);
    EXPECT_EQ(l.burst, 20u);
    EXPECT_EQ(l.concurrency, 2u);
    EXPECT_EQ(l.sessions, 4u);
    EXPECT_EQ(l.cpu_seconds_per_day, 3600);
    EXPECT_EQ(l.network, false);
    ASSERT_TRUE(l.caps);
    EXPECT_EQ(l.caps->memory_mb, 256);
    EXPECT_EQ(l.caps->cpu_seconds, 1.5);
    EXPECT_EQ(a.config_flags, (std::vector<std::string>{"--state-dir", "/tmp/x"}));
}

TEST(KeysArgs, DefaultsUpdateRevokeList) {
    auto l = limits_for_create(parse_keys_args({"create", "--name", "bob"}).fields);
    EXPECT_EQ(l.rate_per_s, 10);
    EXPECT_EQ(l.burst, 20u);
    EXPECT_FALSE(l.network);
    EXPECT_FALSE(l.caps);
    auto u = parse_keys_args({"update", "k1", "--network", "default", "--cap", "none"});
    ASSERT_EQ(u.error, "");
    EXPECT_EQ(u.id, "k1");
    ASSERT_TRUE(u.fields.network);
    EXPECT_FALSE(*u.fields.network);
    ASSERT_TRUE(u.fields.caps);
    EXPECT_FALSE(*u.fields.caps);
    EXPECT_FALSE(u.fields.rate_per_s);
    EXPECT_EQ(parse_keys_args({"revoke", "k2"}).id, "k2");
    auto list = parse_keys_args({"list", "--all", "--database-url=postgresql:///x"});
    EXPECT_TRUE(list.all);
    EXPECT_EQ(list.config_flags, (std::vector<std::string>{"--database-url", "postgresql:///x"}));
}

TEST(KeysArgs, MistakesAreUsageErrors) {
    for (auto args :
         std::vector<std::vector<std::string>>{{},
                                               {"delete"},
                                               {"create"},
                                               {"create", "--name", ""},
                                               {"create", "--name", std::string("a\x01")},
                                               {"create", "--name", "x", "--rate", "fast"},
                                               {"create", "--name", "x", "--burst", "-1"},
                                               {"create", "--name", "x", "--role", "root"},
                                               {"create", "--name", "x", "--network", "maybe"},
                                               {"create", "--name", "x", "--cap", "memory_mb=0"},
                                               {"create", "--name", "x", "--cap", "gpus=1"},
                                               {"create", "--name"},
                                               {"update"},
                                               {"revoke", "--json"},
                                               {"list", "stray"}}) {
        EXPECT_NE(parse_keys_args(args).error, "") << (args.empty() ? "(none)" : args[0]);
    }
}

}  // namespace
}  // namespace sbx::app
