// A small epoll loop: file descriptors and periodic timers (timerfd), each with a callback, plus
// SIGHUP/SIGTERM/SIGINT through a signalfd. Single-threaded.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cowwatch::app {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  bool ok() const { return epoll_fd_ >= 0 && signal_fd_ >= 0; }
  // Calls fn when fd is readable.
  bool watch(int fd, std::function<void()> fn);
  // Calls fn every period (first after one period). Returns a timer id usable with set_period.
  int every(std::chrono::nanoseconds period, std::function<void()> fn);
  void set_period(int timer, std::chrono::nanoseconds period);
  // Called with the signal number for SIGHUP, SIGTERM, SIGINT (blocked for the whole process).
  void on_signal(std::function<void(int)> fn) { signal_fn_ = std::move(fn); }
  // Runs until stop() is called.
  void run();
  void stop() { running_ = false; }

 private:
  int epoll_fd_ = -1;
  int signal_fd_ = -1;
  bool running_ = false;
  std::map<int, std::function<void()>> handlers_;
  std::vector<int> timer_fds_;
  std::function<void(int)> signal_fn_;
};

}  // namespace cowwatch::app
