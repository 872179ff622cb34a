// Fuzz target: the control-socket protocol as the server runs it, without a socket. Each input
// line is what a client could send: parse_request, then dispatch against the daemon's own
// ModelBackend over a synthetic model; streaming requests subscribe a StreamQueue, receive an
// event and a sample and are encoded the way the server writes them. The client side
// (parse_response) reads the same line too.
// Properties: every request line gets exactly one response line that parses as a result or an
// error and echoes the request's id; an error names a known error code.
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "app/model_backend.h"
#include "control/control_dispatch.h"
#include "control/control_stream.h"
#include "protocol/protocol.h"
#include "protocol/protocol_codec.h"
#include "fuzz_check.h"
#include "synthetic_model.h"

namespace {

using namespace cowwatch;

struct Fixture {
  std::shared_ptr<model::Aggregator> aggregator = fuzz::synthetic_aggregator();
  app::ModelBackend backend{aggregator, fuzz::synthetic_plan()};
  int wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
};

Fixture& fixture() {
  static Fixture* f = new Fixture();  // leaked on purpose: lives for the whole fuzzing process
  return *f;
}

void check_response(const control::Request& request, const std::string& line) {
  FUZZ_CHECK(!line.empty() && line.back() == '\n', "a response is one newline-terminated line");
  FUZZ_CHECK(line.find('\n') == line.size() - 1, "a response must not contain inner newlines");
  control::Response r = control::parse_response(std::string_view(line).substr(0, line.size() - 1));
  FUZZ_CHECK(r.kind == control::ResponseKind::kResult || r.kind == control::ResponseKind::kError,
             "a response is a result or an error");
  FUZZ_CHECK(r.id == request.id, "a response echoes the request id");
  if (r.kind == control::ResponseKind::kError) {
    FUZZ_CHECK(control::parse_error_code(r.error_code).has_value(), "error codes are known names");
  }
}

void run_stream(const control::StreamRequest& s, const control::Request& request) {
  Fixture& f = fixture();
  control::StreamQueue queue(s.filter, s.samples, 16, f.wake_fd);
  f.backend.subscribe(&queue);
  cw_event e = fuzz::synthetic_event(CW_EV_FAULT, 101, 101000, "postgres");
  e.decision = CW_DECISION_COPY;
  e.reason = CW_REASON_SHARED;
  f.backend.dispatch_event(e);
  f.backend.dispatch_sample(fuzz::synthetic_sample(3'000'000'000, 3));
  f.backend.unsubscribe(&queue);
  uint64_t lost = 0;
  for (const auto& item : queue.take(64, &lost)) {
    std::string line;
    if (item.kind == control::StreamItem::kEvent)
      line = control::stream_line(request.id, "event", control::event_to_json(item.event));
    else if (item.kind == control::StreamItem::kSample)
      line = control::stream_line(request.id, "sample", control::sample_to_json(*item.sample));
    else
      line = control::stream_line(request.id, "exit", control::exit_flush_to_json(item.exit_flush));
    control::Response r = control::parse_response(std::string_view(line).substr(0, line.size() - 1));
    FUZZ_CHECK(r.kind != control::ResponseKind::kInvalid, "stream lines parse on the client");
  }
  uint64_t drained = 0;
  (void)!read(f.wake_fd, &drained, sizeof(drained));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (!input.empty()) {
    size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);

    (void)control::parse_response(line);  // the client reads server lines with the same codec
    control::RequestParse parsed = control::parse_request(line);
    if (!parsed.ok) {
      FUZZ_CHECK(!parsed.message.empty(), "a rejected request must say why");
      control::Request as_error{parsed.id, "", nlohmann::json::object()};
      check_response(as_error, control::error_line(parsed.id, parsed.code, parsed.message));
      continue;
    }
    control::DispatchResult result = control::dispatch(parsed.request, fixture().backend);
    check_response(parsed.request, result.line);
    if (result.stream) run_stream(*result.stream, parsed.request);
  }
  return 0;
}
