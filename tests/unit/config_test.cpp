// Config: parsing of values, precedence of sources (flag > env > .env > default), validation.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "config/load.h"
#include "config/parse.h"

namespace sbx::config {
namespace {

Sources sources_with(std::map<std::string, std::string> env, std::vector<std::string> flags = {},
                     std::optional<std::filesystem::path> dotenv = std::nullopt) {
    auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(env));
    Sources s;
    s.flags = std::move(flags);
    s.getenv = [shared](const char* n) -> const char* {
        auto it = shared->find(n);
        return it == shared->end() ? nullptr : it->second.c_str();
    };
    s.dotenv = std::move(dotenv);
    return s;
}

TEST(ParseSize, UnitsAndErrors) {
    EXPECT_EQ(parse_size("512m"), 512ULL << 20);
    EXPECT_EQ(parse_size("1G"), 1ULL << 30);
    EXPECT_EQ(parse_size("10MiB"), 10ULL << 20);
    EXPECT_EQ(parse_size("1024k"), 1ULL << 20);
    EXPECT_EQ(parse_size("100"), 100U);
    EXPECT_FALSE(parse_size("-1m"));
    EXPECT_FALSE(parse_size("m"));
    EXPECT_FALSE(parse_size("12x"));
    EXPECT_FALSE(parse_size("99999999999999999999"));
    EXPECT_FALSE(parse_size("17179869184t"));  // overflows 64 bits
}

TEST(ParseBool, Spellings) {
    EXPECT_EQ(parse_bool("TRUE"), true);
    EXPECT_EQ(parse_bool(" off "), false);
    EXPECT_FALSE(parse_bool("maybe"));
}

TEST(ParseRate, UnitsAndErrors) {
    EXPECT_EQ(parse_rate("5/s"), 5);
    EXPECT_EQ(parse_rate("5"), 5);
    EXPECT_EQ(parse_rate(" 300/m "), 5);
    EXPECT_EQ(parse_rate("1800/h"), 0.5);
    EXPECT_EQ(parse_rate("0.5/s"), 0.5);
    EXPECT_EQ(parse_rate("0"), 0);
    EXPECT_FALSE(parse_rate("-1/s"));
    EXPECT_FALSE(parse_rate("5/d"));
    EXPECT_FALSE(parse_rate("fast"));
    EXPECT_FALSE(parse_rate("inf"));
    EXPECT_EQ(format_rate(5), "5/s");
    EXPECT_EQ(format_rate(0.5), "0.5/s");
}

TEST(Load, UserStoreAndLogSettings) {
    auto d = load(sources_with({}));
    ASSERT_TRUE(d.errors.empty());
    EXPECT_EQ(d.config.auth_mode, AuthMode::none);  // nothing changes unless asked
    EXPECT_EQ(d.config.history, HistoryMode::metadata);
    EXPECT_EQ(d.config.anon_rate_per_s, 0);
    EXPECT_EQ(d.config.state_dir, "./state");
    EXPECT_EQ(d.config.log_format, LogFormat::text);
    auto l = load(sources_with({{"AUTH_MODE", "api_key"},
                                {"METRICS_AUTH", "admin"},
                                {"ANON_RATE", "120/m"},
                                {"ANON_CPU_PER_DAY", "60"},
                                {"HISTORY", "full"},
                                {"HISTORY_RETENTION_DAYS", "0"},
                                {"LOG_FORMAT", "JSON"},
                                {"DATABASE_URL", "postgresql://u:s3cret@db:5432/x?password=p2"}}));
    ASSERT_TRUE(l.errors.empty()) << l.errors.front();
    EXPECT_EQ(l.config.auth_mode, AuthMode::api_key);
    EXPECT_EQ(l.config.metrics_auth, MetricsAuth::admin);
    EXPECT_EQ(l.config.anon_rate_per_s, 2);
    EXPECT_EQ(l.config.anon_cpu_per_day, 60);
    EXPECT_EQ(l.config.history, HistoryMode::full);
    EXPECT_EQ(l.config.log_format, LogFormat::json);
    EXPECT_EQ(l.config.database_url, "postgresql://u:s3cret@db:5432/x?password=p2");
    // The effective configuration is logged: the password is not in it.
    std::string all;
    for (const auto& line : describe(l.config)) all += line + "\n";
    EXPECT_EQ(all.find("s3cret"), std::string::npos) << all;
    EXPECT_EQ(all.find("p2"), std::string::npos) << all;
    EXPECT_NE(all.find("DATABASE_URL=postgresql://u:***@db:5432/x?password=***"), std::string::npos)
        << all;
    auto bad = load(sources_with({{"DATABASE_URL", "mysql://x"}, {"HISTORY", "some"},
                                  {"ANON_RATE", "-3/s"}, {"AUTH_MODE", "basic"}}));
    EXPECT_EQ(bad.errors.size(), 4u);
}

TEST(Load, DefaultsWhenNothingSet) {
    auto r = load(sources_with({}));
    ASSERT_TRUE(r.errors.empty());
    EXPECT_EQ(r.config.sandbox_timeout_s, 30);
    EXPECT_EQ(r.config.max_timeout_s, 300);
    EXPECT_EQ(r.config.max_code_length, 100000U);
    EXPECT_EQ(r.config.max_file_size, 10ULL << 20);
    EXPECT_EQ(r.config.memory_limit_bytes, 512ULL << 20);
    EXPECT_EQ(r.config.host, "127.0.0.1");
    EXPECT_EQ(r.config.port, 8000);
}

TEST(Load, PrecedenceFlagOverEnvOverDotenv) {
    auto dir = std::filesystem::temp_directory_path() / "sbx_config_test";
    std::filesystem::create_directories(dir);
    auto dotenv = dir / ".env";
    std::ofstream(dotenv) << "# comment\nPORT=7001\nMEMORY_LIMIT=\"256m\"\nexport CPU_LIMIT=0.5\n"
                             "UNRELATED_TOOL_SETTING=x\n";
    auto only_dotenv = load(sources_with({}, {}, dotenv));
    ASSERT_TRUE(only_dotenv.errors.empty()) << only_dotenv.errors.front();
    EXPECT_EQ(only_dotenv.config.port, 7001);
    EXPECT_EQ(only_dotenv.config.memory_limit_bytes, 256ULL << 20);
    EXPECT_DOUBLE_EQ(only_dotenv.config.cpu_limit_cores, 0.5);

    auto env_wins = load(sources_with({{"PORT", "7002"}}, {}, dotenv));
    EXPECT_EQ(env_wins.config.port, 7002);
    EXPECT_EQ(env_wins.config.memory_limit_bytes, 256ULL << 20);

    auto flag_wins = load(sources_with({{"PORT", "7002"}}, {"--port", "7003"}, dotenv));
    EXPECT_EQ(flag_wins.config.port, 7003);
    auto flag_eq = load(sources_with({{"PORT", "7002"}}, {"--port=7004"}, dotenv));
    EXPECT_EQ(flag_eq.config.port, 7004);
    std::filesystem::remove_all(dir);
}

// An .env written for the original service starts this one unchanged: its Docker-only keys
// are ignored, its values keep their meaning (NETWORK_MODE=bridge gave runs the network).
TEST(Load, OriginalServiceDotenvIsAccepted) {
    auto dir = std::filesystem::temp_directory_path() / "sbx_config_test_original";
    std::filesystem::create_directories(dir);
    auto dotenv = dir / ".env";
    std::ofstream(dotenv) << "EXECUTION_MODE=conda\nSANDBOX_TIMEOUT=30\nMAX_TIMEOUT=300\n"
                             "MAX_CODE_LENGTH=100000\nMAX_FILE_SIZE=10485760\n"
                             "DOCKER_IMAGE=python:3.11-slim\nWORK_DIR=/sandbox\nMEMORY_LIMIT=512m\n"
                             "CPU_LIMIT=1\nNETWORK_MODE=bridge\nTEMP_DIR=/tmp/sandbox\nLOG_LEVEL=INFO\n";
    auto r = load(sources_with({}, {}, dotenv));
    ASSERT_TRUE(r.errors.empty()) << r.errors.front();
    EXPECT_EQ(r.config.network_mode, NetworkMode::egress);
    EXPECT_EQ(r.config.memory_limit_bytes, 512ULL << 20);
    EXPECT_EQ(load(sources_with({{"NETWORK_MODE", "host"}})).config.network_mode, NetworkMode::egress);
    EXPECT_EQ(load(sources_with({{"NETWORK_MODE", "none"}})).config.network_mode, NetworkMode::none);
    std::filesystem::remove_all(dir);
}

TEST(Load, InvalidValuesAreAllReportedByName) {
    auto r = load(sources_with({{"MEMORY_LIMIT", "lots"}, {"PORT", "70000"}, {"RUN_MODE", "warm"}}));
    ASSERT_EQ(r.errors.size(), 3U);
    std::string all;
    for (const auto& e : r.errors) all += e + "\n";
    EXPECT_NE(all.find("MEMORY_LIMIT"), std::string::npos);
    EXPECT_NE(all.find("PORT"), std::string::npos);
    EXPECT_NE(all.find("RUN_MODE"), std::string::npos);
}

TEST(Load, UnknownFlagAndMissingValue) {
    auto r = load(sources_with({}, {"--no-such-thing=1", "--port"}));
    ASSERT_EQ(r.errors.size(), 2U);
    EXPECT_NE(r.errors[0].find("--no-such-thing"), std::string::npos);
    EXPECT_NE(r.errors[1].find("needs a value"), std::string::npos);
}

TEST(Validate, TimeoutRelation) {
    auto r = load(sources_with({{"SANDBOX_TIMEOUT", "400"}}));
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_NE(r.errors[0].find("SANDBOX_TIMEOUT"), std::string::npos);
}

TEST(Validate, BufferedBodyBudgetHoldsAtLeastOneBody) {
    auto r = load(sources_with({{"MAX_BUFFERED_BODY_BYTES", "1m"}}));  // below MAX_BODY_SIZE
    ASSERT_EQ(r.errors.size(), 1U);
    EXPECT_NE(r.errors[0].find("MAX_BUFFERED_BODY_BYTES"), std::string::npos);
    auto set = load(sources_with({{"MAX_BUFFERED_BODY_BYTES", "1g"}}));
    ASSERT_TRUE(set.errors.empty());
    EXPECT_EQ(set.config.effective_max_buffered_body_bytes(), 1ULL << 30);
    Config automatic;  // 0: an eighth of physical memory, never below MAX_BODY_SIZE
    EXPECT_GE(automatic.effective_max_buffered_body_bytes(), automatic.max_body_bytes);
    automatic.max_body_bytes = 1ULL << 50;
    EXPECT_EQ(automatic.effective_max_buffered_body_bytes(), 1ULL << 50);
}

TEST(Describe, ListsEverySettingOnce) {
    auto lines = describe(Config{});
    EXPECT_GT(lines.size(), 30U);
    EXPECT_NE(std::find(lines.begin(), lines.end(), "MEMORY_LIMIT=536870912"), lines.end());
}

}  // namespace
}  // namespace sbx::config

namespace sbx::config {
namespace {

// .env.example in the repository must list every setting with its current default.
TEST(EnvExample, CheckedInFileIsUpToDate) {
    std::ifstream in(std::string(SBX_SOURCE_DIR) + "/.env.example");
    ASSERT_TRUE(in) << ".env.example missing: regenerate with `pysandbox env-example > .env.example`";
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text, env_example()) << "regenerate with `pysandbox env-example > .env.example`";
}

}  // namespace
}  // namespace sbx::config
