#include "cli/top_view.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <sstream>

#include "cli/exit_codes.h"
#include "cli/render.h"

namespace cowwatch::cli {
namespace {

// Raw keys without echo for the lifetime of the object; the terminal is restored after.
class RawTerminal {
 public:
  RawTerminal() {
    if (tcgetattr(STDIN_FILENO, &saved_) != 0) return;
    termios raw = saved_;
    raw.c_lflag &= ~(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
  }
  ~RawTerminal() {
    if (active_) tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
  }

 private:
  termios saved_{};
  bool active_ = false;
};

int terminal_rows() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 4) return ws.ws_row;
  return 24;
}

const char* kHelp = "keys: c copies  b copied bytes  u unshares  w swap adds  f faults | "
                    "p process  g cgroup  m comm | q quit";

}  // namespace

int run_top_view(Source& source, TopArgs args, std::atomic<bool>* stop) {
  RawTerminal raw;
  std::cout << "\x1b[?25l";  // hide the cursor
  int code = kExitOk;
  auto next_refresh = std::chrono::steady_clock::now();
  std::string error_line;
  while (!*stop) {
    if (std::chrono::steady_clock::now() >= next_refresh) {
      args.limit = static_cast<size_t>(std::max(1, terminal_rows() - 4));
      CallResult r = source.call("top", args.params());
      std::ostringstream screen;
      screen << "\x1b[H\x1b[2J";
      if (r.ok) {
        screen << render_top(r.result);
      } else {
        screen << "cowwatch: " << r.error.message << "\n";
        if (r.error.exit_code == kExitNoDaemon || r.error.exit_code == kExitPermission) {
          code = r.error.exit_code;
          std::cout << screen.str();
          break;
        }
      }
      screen << kHelp << "\n";
      std::cout << screen.str() << std::flush;
      next_refresh = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    pollfd p{STDIN_FILENO, POLLIN, 0};
    int wait = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    next_refresh - std::chrono::steady_clock::now())
                                    .count());
    if (poll(&p, 1, std::max(0, std::min(wait, 200))) <= 0) continue;
    char key = 0;
    if (read(STDIN_FILENO, &key, 1) != 1) {
      if (!(p.revents & POLLIN)) continue;
      break;  // stdin closed
    }
    std::string before = args.sort + args.by;
    switch (key) {
      case 'q': case 'Q': *stop = true; break;
      case 'c': args.sort = "copies"; break;
      case 'b': args.sort = "copied_bytes"; break;
      case 'u': args.sort = "unshares"; break;
      case 'w': args.sort = "swap_adds"; break;
      case 'f': args.sort = "faults"; break;
      case 'p': args.by = "process"; break;
      case 'g': args.by = "cgroup"; break;
      case 'm': args.by = "comm"; break;
      default: break;
    }
    if (args.sort + args.by != before) next_refresh = std::chrono::steady_clock::now();
  }
  std::cout << "\x1b[?25h" << std::flush;
  return code;
}

}  // namespace cowwatch::cli
