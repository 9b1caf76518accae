// POST /execute validation: exact 422 bodies (pydantic v2) and 400 service checks.
#include <gtest/gtest.h>

#include "api/api_error.h"
#include "api/base64.h"
#include "api/execute_request.h"
#include "api/json_text.h"

namespace sbx::api {
namespace {

struct Answer {
    unsigned status;
    std::string body;
};

class Validation : public ::testing::Test {
   protected:
    config::Config cfg;

    Answer check(std::string_view body, std::string_view content_type = "application/json") {
        auto r = parse_execute_body(content_type, body, cfg, "7");
        if (r) return {200, ""};
        auto res = to_response(r.error());
        return {res.result_int(), res.body()};
    }
    sandbox::RunRequest accept(std::string_view body) {
        auto r = parse_execute_body("application/json", body, cfg, "7");
        EXPECT_TRUE(r) << (r ? "" : to_response(r.error()).body());
        return r ? *r : sandbox::RunRequest{};
    }
    void expect(std::string_view body, unsigned status, std::string_view expected) {
        Answer a = check(body);
        EXPECT_EQ(a.status, status) << body;
        EXPECT_EQ(a.body, expected) << body;
    }
};

TEST_F(Validation, MissingCode) {
    expect(
        R"({"timeout":5})", 422,
        R"({"detail":[{"type":"missing","loc":["body","code"],"msg":"Field required","input":{"timeout":5}}]})");
}

TEST_F(Validation, CodeNotString) {
    expect(
        R"({"code":123})", 422,
        R"({"detail":[{"type":"string_type","loc":["body","code"],"msg":"Input should be a valid string","input":123}]})");
}

TEST_F(Validation, TimeoutRange) {
    expect(
        R"({"code":"x","timeout":500})", 422,
        R"({"detail":[{"type":"less_than_equal","loc":["body","timeout"],"msg":"Input should be less than or equal to 300","input":500,"ctx":{"le":300}}]})");
    expect(
        R"({"code":"x","timeout":0})", 422,
        R"({"detail":[{"type":"greater_than_equal","loc":["body","timeout"],"msg":"Input should be greater than or equal to 1","input":0,"ctx":{"ge":1}}]})");
    cfg.max_timeout_s = 60;
    expect(
        R"({"code":"x","timeout":61})", 422,
        R"({"detail":[{"type":"less_than_equal","loc":["body","timeout"],"msg":"Input should be less than or equal to 60","input":61,"ctx":{"le":60}}]})");
}

TEST_F(Validation, TimeoutTypes) {
    expect(
        R"({"code":"x","timeout":"abc"})", 422,
        R"({"detail":[{"type":"int_parsing","loc":["body","timeout"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"abc"}]})");
    expect(
        R"({"code":"x","timeout":1.5})", 422,
        R"({"detail":[{"type":"int_from_float","loc":["body","timeout"],"msg":"Input should be a valid integer, got a number with a fractional part","input":1.5}]})");
    for (const char* v : {"null", "[]", "{}"}) {
        expect(
            std::string(R"({"code":"x","timeout":)") + v + "}", 422,
            std::string(
                R"({"detail":[{"type":"int_type","loc":["body","timeout"],"msg":"Input should be a valid integer","input":)") +
                v + "}]}");
    }
}

TEST_F(Validation, TimeoutLaxForms) {
    EXPECT_EQ(accept(R"({"code":"x","timeout":"5"})").timeout.count(), 5);
    EXPECT_EQ(accept(R"({"code":"x","timeout":" 7 "})").timeout.count(), 7);
    EXPECT_EQ(accept(R"({"code":"x","timeout":2.0})").timeout.count(), 2);
    EXPECT_EQ(accept(R"({"code":"x","timeout":true})").timeout.count(), 1);
    EXPECT_EQ(accept(R"({"code":"x"})").timeout.count(), cfg.sandbox_timeout_s);
    EXPECT_EQ(check(R"({"code":"x","timeout":99999999999999999999999})").status, 422u);
    EXPECT_EQ(check(R"({"code":"x","timeout":"1.5"})").status, 422u);
}

TEST_F(Validation, Files) {
    expect(
        R"({"code":"x","files":[1]})", 422,
        R"({"detail":[{"type":"dict_type","loc":["body","files"],"msg":"Input should be a valid dictionary","input":[1]}]})");
    expect(
        R"({"code":"x","files":{"a.txt":5}})", 422,
        R"({"detail":[{"type":"string_type","loc":["body","files","a.txt"],"msg":"Input should be a valid string","input":5}]})");
    EXPECT_TRUE(accept(R"({"code":"x","files":null})").files.empty());
    auto run = accept(R"({"code":"x","files":{"data/in.csv":"YSxi","e":""},"extra":1})");
    ASSERT_EQ(run.files.size(), 2u);
    EXPECT_EQ(run.files[0].name, "data/in.csv");
    EXPECT_EQ(run.files[0].content, "a,b");
    EXPECT_EQ(run.files[1].content, "");
}

TEST_F(Validation, EveryErrorIsReported) {
    expect(
        R"({"timeout":"x","files":3})", 422,
        R"({"detail":[{"type":"missing","loc":["body","code"],"msg":"Field required","input":{"timeout":"x","files":3}},)"
        R"({"type":"int_parsing","loc":["body","timeout"],"msg":"Input should be a valid integer, unable to parse string as an integer","input":"x"},)"
        R"({"type":"dict_type","loc":["body","files"],"msg":"Input should be a valid dictionary","input":3}]})");
}

TEST_F(Validation, BodyShape) {
    expect(
        "[1,2]", 422,
        R"({"detail":[{"type":"model_attributes_type","loc":["body"],"msg":"Input should be a valid dictionary or object to extract fields from","input":[1,2]}]})");
    expect("", 422,
           R"({"detail":[{"type":"missing","loc":["body"],"msg":"Field required","input":null}]})");
    Answer a = check("code=x", "application/x-www-form-urlencoded");
    EXPECT_EQ(a.status, 422u);
    EXPECT_NE(a.body.find("model_attributes_type"), std::string::npos);
    EXPECT_EQ(check(R"j({"code":"print(1)"})j", "application/json; charset=utf-8").status, 200u);
    EXPECT_EQ(check(R"j({"code":"print(1)"})j", "").status, 200u);
}

TEST_F(Validation, MalformedJson) {
    expect(
        R"({"code": )", 422,
        R"({"detail":[{"type":"json_invalid","loc":["body",9],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]})");
    expect(
        R"({"code":"x"} x)", 422,
        R"({"detail":[{"type":"json_invalid","loc":["body",13],"msg":"JSON decode error","input":{},"ctx":{"error":"Extra data"}}]})");
}

TEST_F(Validation, DuplicateKeysLastOneWinsLikeJsonLoads) {
    auto run = accept(R"j({"code":"print(1)","timeout":3,"code":"print(2)",)j"
                      R"j("files":{"a":"YQ==","b":"Yg==","a":"Yw=="}})j");
    EXPECT_EQ(run.code, "print(2)");
    ASSERT_EQ(run.files.size(), 2u);  // dict order: first place, last value
    EXPECT_EQ(run.files[0].name, "a");
    EXPECT_EQ(run.files[0].content, "c");
    EXPECT_EQ(run.files[1].name, "b");
    expect(
        R"({"timeout":1,"x":1,"timeout":2})", 422,
        R"({"detail":[{"type":"missing","loc":["body","code"],"msg":"Field required","input":{"timeout":2,"x":1}}]})");
}

TEST_F(Validation, Utf8BomIsSkippedLikeJsonLoadsOfBytes) {
    EXPECT_EQ(accept("\xEF\xBB\xBF{\"code\":\"print(1)\"}").code, "print(1)");
    // Positions count from after the BOM, as Python's do once it has decoded the bytes.
    expect(
        "\xEF\xBB\xBF{\"code\": ", 422,
        R"({"detail":[{"type":"json_invalid","loc":["body",9],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]})");
    expect(
        "\xEF\xBB\xBF", 422,
        R"({"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error","input":{},"ctx":{"error":"Expecting value"}}]})");
}

TEST_F(Validation, HostileJson) {
    std::string deep = std::string(65, '[') + std::string(65, ']');
    Answer a = check(deep);
    EXPECT_EQ(a.status, 422u);
    EXPECT_NE(a.body.find("Nesting too deep"), std::string::npos) << a.body;
    a = check(R"({"code":"x","timeout":1e999})");
    EXPECT_EQ(a.status, 422u);
}

TEST_F(Validation, InvalidUtf8IsFastApisTextWithTheOffsetOnlyInTheLog) {
    std::string body = "{\"code\":\"\xff\"}";
    expect(body, 400, R"({"detail":"There was an error parsing the body"})");
    auto r = parse_execute_body("application/json", body, cfg, "7");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().log_detail, "invalid UTF-8 at byte 9");
}

TEST_F(Validation, ServiceChecks) {
    expect(R"({"code":"  \n\t "})", 400, R"({"detail":"代码不能为空"})");
    expect(R"({"code":""})", 400, R"({"detail":"代码不能为空"})");
    cfg.max_code_length = 5;
    expect(R"j({"code":"世界世界世界"})j", 400, R"j({"detail":"代码长度不能超过 5 字符"})j");
    EXPECT_EQ(check(R"({"code":"世界世界世"})").status, 200u);  // 5 characters, 15 bytes
}

TEST_F(Validation, FileChecks) {
    expect(R"({"code":"x","files":{"../a":"YQ=="}})", 400,
           R"({"detail":"Invalid file name '../a': '.' and '..' path segments are not allowed"})");
    expect(R"({"code":"x","files":{"/etc/x":"YQ=="}})", 400,
           R"({"detail":"Invalid file name '/etc/x': absolute paths are not allowed"})");
    expect(
        R"({"code":"x","files":{"main.py":"YQ=="}})", 400,
        R"({"detail":"Invalid file name 'main.py': 'main.py' is reserved for the submitted code"})");
    expect(R"({"code":"x","files":{"a.txt":"!!"}})", 400,
           R"({"detail":"Invalid base64 content for file 'a.txt'"})");
    cfg.max_file_size = 2;
    expect(R"({"code":"x","files":{"a.txt":"YWJj"}})", 400,
           R"j({"detail":"File too large: 'a.txt' is 3 bytes (maximum 2)"})j");
}

TEST_F(Validation, InputsMustFitTheWorkDirectory) {
    cfg.workdir_size_bytes = 6;  // "abc" + "abc" + main.py "x" = 7 bytes
    expect(
        R"({"code":"x","files":{"a.txt":"YWJj","b.txt":"YWJj"}})", 400,
        R"j({"detail":"Input files too large: 7 bytes with main.py (the work directory holds 6)"})j");
    EXPECT_EQ(check(R"({"code":"x","files":{"a.txt":"YWJj"}})").status, 200u);
    cfg.workdir_size_bytes = 1 << 20;
    cfg.workdir_max_inodes = 5;  // root entry + main.py + 2 files + 1 directory = 5: fits
    EXPECT_EQ(check(R"({"code":"x","files":{"d/a":"YQ==","d/b":"YQ=="}})").status, 200u);
    expect(
        R"({"code":"x","files":{"d/a":"YQ==","e/b":"YQ=="}})", 400,
        R"j({"detail":"Too many input files: 2 files and 2 directories (the work directory holds 5 entries)"})j");
}

TEST_F(Validation, MoreFilesThanEntriesAreRefusedBeforeTheyAreExamined) {
    cfg.workdir_max_inodes = 5;  // root + main.py + 3 files at most
    // "a" is not base64, but four files cannot fit whatever they hold: that is said first.
    expect(R"({"code":"x","files":{"a":"!","b/c/d":"YQ==","b/e":"YQ==","f/g":"YQ=="}})", 400,
           R"j({"detail":"Too many input files: 4 files and 3 directories (the work directory holds 5 entries)"})j");
    // Model errors still come first (422).
    EXPECT_EQ(check(R"({"code":"x","files":{"a":1,"b":"","c":"","d":""}})").status, 422u);
    // Within the count, the files are examined in order as before.
    expect(R"({"code":"x","files":{"a":"!"}})", 400,
           R"j({"detail":"Invalid base64 content for file 'a'"})j");
}

TEST_F(Validation, NetworkFlag) {
    auto refused = check(R"({"code":"x","network":true})");  // NETWORK_MODE=none (default)
    EXPECT_EQ(refused.status, 400u);
    EXPECT_NE(refused.body.find("NETWORK_MODE=none"), std::string::npos);
    EXPECT_EQ(accept(R"({"code":"x","network":false})").network, false);
    cfg.network_mode = config::NetworkMode::egress;
    EXPECT_EQ(accept(R"({"code":"x","network":true})").network, true);
    EXPECT_FALSE(accept(R"({"code":"x"})").network.has_value());
    EXPECT_EQ(check(R"({"code":"x","network":"yes"})").status, 422u);
}

TEST(JsonText, PythonFloats) {
    EXPECT_EQ(python_float(0.5), "0.5");
    EXPECT_EQ(python_float(2.0), "2.0");
    EXPECT_EQ(python_float(0.123456), "0.123456");
    EXPECT_EQ(python_float(1e-05), "1e-05");
    EXPECT_EQ(python_float(0.0001), "0.0001");
    EXPECT_EQ(python_float(1e16), "1e+16");
    EXPECT_EQ(python_float(123.25), "123.25");
    EXPECT_EQ(python_float(-1.5), "-1.5");
    EXPECT_EQ(python_float(0.0), "0.0");
}

}  // namespace
}  // namespace sbx::api
