#include "protocol/protocol.h"

#include <gtest/gtest.h>

namespace cowwatch::control {
namespace {

using nlohmann::json;

TEST(ProtocolTest, ParsesAWellFormedRequest) {
  auto r = parse_request(R"({"v":1,"id":"a","method":"top","params":{"sort":"faults"}})");
  ASSERT_TRUE(r.ok) << r.message;
  EXPECT_EQ(r.request.id, "a");
  EXPECT_EQ(r.request.method, "top");
  EXPECT_EQ(r.request.params["sort"], "faults");
}

TEST(ProtocolTest, ParamsDefaultToAnEmptyObject) {
  auto r = parse_request(R"({"v":1,"method":"status"})");
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.request.id.is_null());
  EXPECT_TRUE(r.request.params.is_object());
  EXPECT_TRUE(r.request.params.empty());
}

TEST(ProtocolTest, RejectsMalformedRequestsWithTheRightCode) {
  struct Case {
    const char* line;
    ErrorCode code;
  } cases[] = {
      {"", ErrorCode::kBadRequest},
      {"{", ErrorCode::kBadRequest},
      {"null", ErrorCode::kBadRequest},
      {R"({"method":"status"})", ErrorCode::kBadRequest},
      {R"({"v":"1","method":"status"})", ErrorCode::kBadRequest},
      {R"({"v":2,"method":"status"})", ErrorCode::kUnsupportedVersion},
      {R"({"v":1,"method":""})", ErrorCode::kBadRequest},
      {R"({"v":1,"method":5})", ErrorCode::kBadRequest},
      {R"({"v":1,"id":{"x":1},"method":"status"})", ErrorCode::kBadRequest},
      {R"({"v":1,"method":"status","params":"x"})", ErrorCode::kBadParams},
  };
  for (const auto& c : cases) {
    auto r = parse_request(c.line);
    EXPECT_FALSE(r.ok) << c.line;
    EXPECT_EQ(r.code, c.code) << c.line;
    EXPECT_FALSE(r.message.empty()) << c.line;
  }
}

TEST(ProtocolTest, ErrorKeepsTheIdWhenItWasReadable) {
  auto r = parse_request(R"({"v":7,"id":9,"method":"status"})");
  EXPECT_EQ(r.id, 9);
}

TEST(ProtocolTest, LinesRoundTripThroughTheClientParser) {
  auto res = parse_response(result_line(3, json{{"a", 1}}));
  EXPECT_EQ(res.kind, ResponseKind::kResult);
  EXPECT_EQ(res.id, 3);
  EXPECT_EQ(res.payload["a"], 1);

  auto err = parse_response(error_line("x", ErrorCode::kNotFound, "no pid 5"));
  EXPECT_EQ(err.kind, ResponseKind::kError);
  EXPECT_EQ(err.error_code, "not_found");
  EXPECT_EQ(err.error_message, "no pid 5");

  EXPECT_EQ(parse_response(stream_line(1, "event", json::object())).kind, ResponseKind::kEvent);
  EXPECT_EQ(parse_response(stream_line(1, "sample", json::object())).kind, ResponseKind::kSample);
  auto lost = parse_response(stream_line(1, "lost", 12));
  EXPECT_EQ(lost.kind, ResponseKind::kLost);
  EXPECT_EQ(lost.payload, 12);
  EXPECT_EQ(parse_response("garbage").kind, ResponseKind::kInvalid);
  EXPECT_EQ(parse_response(R"({"v":2,"result":1})").kind, ResponseKind::kInvalid);
}

// Found by fuzz_protocol (CI smoke, seed 1674216599): an error whose code was an object threw
// nlohmann's type_error out of parse_response, terminating the client.
TEST(ProtocolTest, ErrorWithANonStringCodeOrMessageIsReportedNotThrown) {
  auto a = parse_response(R"({"v":1,"id":1,"error":{"code":{"x":1},"message":"m"}})");
  EXPECT_EQ(a.kind, ResponseKind::kError);
  EXPECT_EQ(a.error_code, "internal");
  EXPECT_EQ(a.error_message, "daemon sent an error whose code or message is not a string");
  auto b = parse_response(R"({"v":1,"id":1,"error":{"code":"not_found","message":[1]}})");
  EXPECT_EQ(b.kind, ResponseKind::kError);
  EXPECT_EQ(b.error_message, "daemon sent an error whose code or message is not a string");
  auto c = parse_response(R"({"v":1,"id":1,"error":{}})");
  EXPECT_EQ(c.error_code, "internal");
  EXPECT_EQ(c.error_message, "");
}

TEST(ProtocolTest, RequestLineIsOneLineOfJson) {
  std::string line = request_line(1, "query", json{{"comm", "a\nb"}});
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto r = parse_request(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.request.params["comm"], "a\nb");
}

TEST(ProtocolTest, InvalidUtf8IsReplacedNotThrown) {
  std::string line = to_line(json{{"comm", std::string("bad\xff\xfe")}});
  EXPECT_TRUE(json::parse(line).is_object());
}

TEST(ProtocolTest, ErrorCodeNamesRoundTrip) {
  for (auto code : {ErrorCode::kBadRequest, ErrorCode::kTimeout, ErrorCode::kPermissionDenied,
                    ErrorCode::kRequestTooLarge, ErrorCode::kInternal}) {
    EXPECT_EQ(parse_error_code(error_code_name(code)), code);
  }
  EXPECT_FALSE(parse_error_code("nope"));
}

}  // namespace
}  // namespace cowwatch::control
