// What the kernel side and the log take from the configuration.
#pragma once

#include "app/log.h"
#include "config/config.h"
#include "loader/kernel_session.h"

namespace cowwatch::app {

loader::KernelOptions kernel_options(const config::Config& c);
Level to_level(config::LogLevel l);

}  // namespace cowwatch::app
