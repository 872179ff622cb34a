// cowwatchd: see daemon/app/daemon.cpp for the start-up steps.
#include "app/daemon.h"
#include "app/options.h"

int main(int argc, char** argv) {
  cowwatch::app::Options options;
  if (auto code = cowwatch::app::parse_options(argc, argv, &options)) return *code;
  return cowwatch::app::run_daemon(options);
}
