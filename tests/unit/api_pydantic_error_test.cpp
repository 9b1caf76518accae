// 422 bodies stay bounded: at most kMaxValidationErrors entries plus a count, inputs echoed up
// to kMaxEchoedInputBytes, whatever the size of the request.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>

#include "api/api_error.h"
#include "api/execute_request.h"
#include "api/json_text.h"
#include "api/pydantic_error.h"

namespace sbx::api {
namespace {

namespace json = boost::json;

json::object answer_422(std::string_view body, std::string_view content_type = "application/json") {
    config::Config cfg;
    auto r = parse_execute_body(content_type, body, cfg, "1");
    EXPECT_FALSE(r);
    if (r) return {};
    auto res = to_response(r.error());
    EXPECT_EQ(res.result_int(), 422U);
    return json::parse(res.body()).as_object();
}

std::string number_files(std::size_t n) {
    std::string body = R"({"code":"x","files":{)";
    for (std::size_t i = 0; i < n; ++i)
        body += "\"f" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    body.back() = '}';
    return body + "}";
}

TEST(ValidationCap, FewErrorsAreAllListedWithoutACount) {
    auto a = answer_422(number_files(kMaxValidationErrors));
    EXPECT_EQ(a.at("detail").as_array().size(), kMaxValidationErrors);
    EXPECT_FALSE(a.contains("errors_omitted"));
}

TEST(ValidationCap, ManyErrorsListTheFirstHundredAndCountTheRest) {
    auto a = answer_422(number_files(25'000));
    const auto& detail = a.at("detail").as_array();
    ASSERT_EQ(detail.size(), kMaxValidationErrors);
    EXPECT_EQ(a.at("errors_omitted").as_int64(), 25'000 - 100);
    // The entries are the first ones, in request order, in pydantic's shape.
    EXPECT_EQ(json::serialize(detail.front()),
              R"({"type":"string_type","loc":["body","files","f0"],)"
              R"("msg":"Input should be a valid string","input":0})");
    EXPECT_EQ(detail.back().at("loc").as_array().back().as_string(), "f99");
}

TEST(ValidationCap, ErrorsAfterTheCapAreCountedInFieldOrder) {
    // 100 bad files fill the list; "network" (validated after files) is counted, not shown.
    std::string body = number_files(100);
    body.insert(body.size() - 1, R"(,"network":"yes")");
    auto a = answer_422(body);
    EXPECT_EQ(a.at("detail").as_array().size(), 100U);
    EXPECT_EQ(a.at("errors_omitted").as_int64(), 1);
}

TEST(EchoedInput, SmallInputsAreEchoedWhole) {
    auto a = answer_422(R"({"code":["a",{"b":[1,2.5,null,true]}]})");
    const auto& e = a.at("detail").as_array().front().as_object();
    EXPECT_EQ(to_json_text(e.at("input")), R"(["a",{"b":[1,2.5,null,true]}])");
    EXPECT_FALSE(e.contains("input_truncated"));
}

TEST(EchoedInput, AHugeStringIsCutOnACharacterBoundary) {
    // "timeout" as a string of 100 000 two-byte characters: int_parsing echoes it.
    std::string text;
    for (int i = 0; i < 100'000; ++i) text += "\xC3\xA9";  // é
    auto a = answer_422(R"({"code":"x","timeout":")" + text + "\"}");
    const auto& e = a.at("detail").as_array().front().as_object();
    EXPECT_EQ(e.at("type").as_string(), "int_parsing");
    const auto& echoed = e.at("input").as_string();
    EXPECT_EQ(echoed.size(), kMaxEchoedInputBytes);  // an even number: whole characters
    EXPECT_EQ(std::string_view(echoed), std::string_view(text).substr(0, echoed.size()));
    EXPECT_TRUE(e.at("input_truncated").as_bool());
}

TEST(EchoedInput, TheWholeBodyOfAMissingFieldIsBounded) {
    std::string big(1 << 20, 'a');
    auto a = answer_422(R"({"files":{"a.txt":")" + big + R"(","b.txt":"x"}})");
    const auto& e = a.at("detail").as_array().front().as_object();
    EXPECT_EQ(e.at("type").as_string(), "missing");
    const auto& files = e.at("input").at("files").as_object();
    EXPECT_LT(files.at("a.txt").as_string().size(), kMaxEchoedInputBytes);
    EXPECT_FALSE(files.contains("b.txt"));  // the budget was spent: later members left out
    EXPECT_TRUE(e.at("input_truncated").as_bool());
}

TEST(EchoedInput, AHugeArrayKeepsItsFirstElements) {
    std::string body = R"({"code":[)";
    for (int i = 0; i < 100'000; ++i) body += "1,";
    body.back() = ']';
    auto a = answer_422(body + "}");
    const auto& e = a.at("detail").as_array().front().as_object();
    const auto& echoed = e.at("input").as_array();
    EXPECT_GT(echoed.size(), 1000U);
    EXPECT_LT(echoed.size(), 100'000U);
    EXPECT_TRUE(e.at("input_truncated").as_bool());
}

TEST(EchoedInput, ANonJsonBodyIsEchoedAsBoundedText) {
    std::string body(1 << 20, 'z');
    auto a = answer_422(body, "text/plain");
    const auto& e = a.at("detail").as_array().front().as_object();
    EXPECT_EQ(e.at("type").as_string(), "model_attributes_type");
    EXPECT_EQ(e.at("input").as_string().size(), kMaxEchoedInputBytes);
    EXPECT_TRUE(e.at("input_truncated").as_bool());
    auto small = answer_422("a=1", "application/x-www-form-urlencoded");
    EXPECT_EQ(small.at("detail").as_array().front().at("input").as_string(), "a=1");
    EXPECT_FALSE(small.at("detail").as_array().front().as_object().contains("input_truncated"));
}

TEST(ErrorList, CountsInsteadOfStoringBeyondTheCap) {
    ErrorList list;
    for (std::size_t i = 0; i < kMaxValidationErrors + 5; ++i) {
        if (list.full()) {
            list.omit();
        } else {
            list.add(missing(body_loc({"code"}), nullptr));
        }
    }
    list.add(missing(body_loc({"code"}), nullptr));  // add() past the cap counts as well
    EXPECT_EQ(list.shown().size(), kMaxValidationErrors);
    EXPECT_EQ(list.omitted(), 6U);
}

}  // namespace
}  // namespace sbx::api
