// End-pipe codec: records in any split, limits refused without buffering, garbage spoils.
#include <gtest/gtest.h>

#include <string>

#include "pool/end_pipe.h"

namespace sbx::pool {
namespace {

std::vector<EndRecord> decode_bytewise(const std::string& wire, EndPipeLimits limits = {}) {
    EndPipeDecoder d(limits);
    std::vector<EndRecord> out;
    for (const char c : wire) {
        d.feed(std::string_view(&c, 1));
        for (auto& r : d.take()) out.push_back(std::move(r));
    }
    return out;
}

TEST(EndPipe, RoundTripsInOneReadAndByteByByte) {
    const std::string payload("\0bin\n\xff", 6);
    const std::string wire = encode_end_record("result", payload) +
                             encode_end_record(kFlushedKind, "") + encode_end_status(7);
    EndPipeDecoder d;
    d.feed(wire);
    auto all = d.take();
    ASSERT_EQ(all.size(), 3U);
    EXPECT_EQ(all[0].kind, "result");
    EXPECT_EQ(all[0].payload, payload);
    EXPECT_EQ(all[1].kind, "flushed");
    EXPECT_EQ(all[1].payload, "");
    EXPECT_EQ(decode_end_status(all[2].payload), 7);
    EXPECT_FALSE(d.spoiled());
    auto slow = decode_bytewise(wire);
    ASSERT_EQ(slow.size(), 3U);
    EXPECT_EQ(slow[0].payload, payload);
    EXPECT_TRUE(d.take().empty());  // take() clears
}

// Replaces pool_verdict_test's EndReportParsesOnlyTheExactForm (the "end N" line is now a
// record): the same statuses are accepted and refused.
TEST(EndPipe, EndStatusOnlyZeroTo255) {
    EXPECT_EQ(encode_end_status(0), "end 12\n{\"status\":0}");
    for (const int n : {0, 3, 255}) {
        EndPipeDecoder d;
        d.feed(encode_end_status(n));
        auto r = d.take();
        ASSERT_EQ(r.size(), 1U);
        EXPECT_EQ(r[0].kind, kEndKind);
        EXPECT_EQ(decode_end_status(r[0].payload), n);
    }
    for (const std::string_view bad : {"{\"status\":256}", "{\"status\":-1}", "{\"status\":\"1\"}",
                                       "{\"status\":1.5}", "{}", "[0]", "0", "", "{\"status\":0"}) {
        EXPECT_EQ(decode_end_status(bad), std::nullopt) << bad;
    }
}

TEST(EndPipe, GarbageSpoilsForTheRestOfTheRun) {
    for (const std::string& bad :
         std::vector<std::string>{"END 0\n", "end\n", "end -1\n", "end 01\nx", "end 1x\n",
                                  "e\xc3\xa9 0\n", " end 0\n", "end  0\n", std::string(40, 'a')}) {
        EndPipeDecoder d;
        d.feed(bad);
        d.feed(encode_end_status(0));  // a valid record after garbage is not believed
        EXPECT_TRUE(d.spoiled()) << bad;
        EXPECT_TRUE(d.take().empty()) << bad;
    }
}

TEST(EndPipe, OversizedRecordIsRefusedNotBuffered) {
    EndPipeDecoder d(EndPipeLimits{100, 1000});
    d.feed("result 101\n");  // refused at the header: nothing of it is buffered
    EXPECT_TRUE(d.spoiled());
    EndPipeDecoder ok(EndPipeLimits{100, 1000});
    ok.feed(encode_end_record("result", std::string(100, 'x')));
    EXPECT_EQ(ok.take().size(), 1U);
    EXPECT_FALSE(ok.spoiled());
}

TEST(EndPipe, TotalLimitAcrossRecords) {
    EndPipeDecoder d(EndPipeLimits{100, 250});
    for (int i = 0; i < 2; ++i) d.feed(encode_end_record("result", std::string(100, 'x')));
    EXPECT_EQ(d.take().size(), 2U);
    d.feed(encode_end_record("result", std::string(100, 'x')));  // 300 > 250
    EXPECT_TRUE(d.spoiled());
    EXPECT_TRUE(d.take().empty());
}

TEST(EndPipe, PartialRecordWaitsForTheRest) {
    EndPipeDecoder d;
    const std::string wire = encode_end_status(4);
    d.feed(wire.substr(0, 9));
    EXPECT_TRUE(d.take().empty());
    d.feed(wire.substr(9));
    auto r = d.take();
    ASSERT_EQ(r.size(), 1U);
    EXPECT_EQ(decode_end_status(r[0].payload), 4);
}

}  // namespace
}  // namespace sbx::pool
