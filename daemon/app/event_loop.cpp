#include "app/event_loop.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace cowwatch::app {

EventLoop::EventLoop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  // Block in every thread started later (they inherit the mask), so only the signalfd sees them.
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd_ >= 0) {
    watch(signal_fd_, [this] {
      struct signalfd_siginfo info;
      while (read(signal_fd_, &info, sizeof(info)) == sizeof(info))
        if (signal_fn_) signal_fn_(static_cast<int>(info.ssi_signo));
    });
  }
}

EventLoop::~EventLoop() {
  for (int fd : timer_fds_) close(fd);
  if (signal_fd_ >= 0) close(signal_fd_);
  if (epoll_fd_ >= 0) close(epoll_fd_);
}

bool EventLoop::watch(int fd, std::function<void()> fn) {
  struct epoll_event ev {};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return false;
  handlers_[fd] = std::move(fn);
  return true;
}

int EventLoop::every(std::chrono::nanoseconds period, std::function<void()> fn) {
  int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (fd < 0) return -1;
  timer_fds_.push_back(fd);
  set_period(fd, period);
  watch(fd, [fd, fn = std::move(fn)] {
    uint64_t expirations;
    if (read(fd, &expirations, sizeof(expirations)) == sizeof(expirations)) fn();
  });
  return fd;
}

void EventLoop::set_period(int timer, std::chrono::nanoseconds period) {
  struct itimerspec spec {};
  spec.it_interval.tv_sec = period.count() / 1000000000;
  spec.it_interval.tv_nsec = period.count() % 1000000000;
  spec.it_value = spec.it_interval;
  timerfd_settime(timer, 0, &spec, nullptr);
}

void EventLoop::run() {
  running_ = true;
  struct epoll_event events[16];
  while (running_) {
    int n = epoll_wait(epoll_fd_, events, 16, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n && running_; i++) {
      auto it = handlers_.find(events[i].data.fd);
      if (it != handlers_.end()) it->second();
    }
  }
}

}  // namespace cowwatch::app
