// Log lines: key=value text and JSON (one object per line, the same fields).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "log/log.h"

namespace sbx::log {
namespace {

std::string str(const boost::json::object& o, const char* key) {
    return std::string(o.at(key).as_string());
}

TEST(LogFormat, TextLine) {
    auto line =
        format_line(Format::text, Level::info, "2026-12-06T00:00:00.000000Z", "run finished",
                    {{"req", 12}, {"verdict", "ok"}, {"note", "two words"}});
    EXPECT_EQ(line,
              "ts=2026-12-06T00:00:00.000000Z level=info event=\"run finished\" req=12 verdict=ok "
              "note=\"two words\"");
}

TEST(LogFormat, JsonLineHasTheSameFields) {
    auto line =
        format_line(Format::json, Level::warning, "2026-12-06T00:00:00.000000Z", "run finished",
                    {{"req", 12},
                     {"ratio", 0.5},
                     {"verdict", "ok"},
                     {"quote", "say \"hi\"\\n"},
                     {"ctl", std::string("a\x01\tb\n", 5)},
                     {"bad_utf8", std::string("x\xff\xc0y")},
                     {"unicode", "\xc3\xa9"},
                     {"numeric_text", "12"}});
    EXPECT_EQ(line.find('\n'), std::string::npos) << "one object per line";
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    ASSERT_FALSE(ec) << line;
    const auto& o = v.as_object();
    EXPECT_EQ(str(o, "ts"), "2026-12-06T00:00:00.000000Z");
    EXPECT_EQ(str(o, "level"), "warning");
    EXPECT_EQ(str(o, "event"), "run finished");
    EXPECT_EQ(o.at("req").as_int64(), 12);  // numbers stay numbers
    EXPECT_DOUBLE_EQ(o.at("ratio").as_double(), 0.5);
    EXPECT_EQ(str(o, "verdict"), "ok");
    EXPECT_EQ(str(o, "quote"), "say \"hi\"\\n");
    EXPECT_EQ(str(o, "ctl"), std::string("a\x01\tb\n", 5));
    EXPECT_EQ(str(o, "bad_utf8"), "x\xef\xbf\xbd\xef\xbf\xbdy");  // U+FFFD per bad byte
    EXPECT_EQ(str(o, "unicode"), "\xc3\xa9");
    EXPECT_EQ(str(o, "numeric_text"), "12");  // text stays text
    // The keys come in the order given, as in the text form.
    EXPECT_LT(line.find("\"req\""), line.find("\"verdict\""));
}

}  // namespace
}  // namespace sbx::log
