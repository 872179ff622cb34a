// Stopping the metrics HTTP server at once. civetweb's mg_stop() waits for its threads, which sit
// in poll() for up to 2 s (the listener) or the keep-alive timeout (an idle scrape connection)
// before they see the stop flag: a SIGTERM right after a scrape took 2.0 s. Shutting down the
// server's sockets while it stops wakes every one of them.
#pragma once

#include <memory>

namespace prometheus {
class Exposer;
}

namespace cowwatch::metrics {

// Destroys the exposer, waking its listener and connection threads so that it returns in
// milliseconds. A no-op for a null pointer.
void stop_http_server(std::unique_ptr<prometheus::Exposer>& exposer);

}  // namespace cowwatch::metrics
