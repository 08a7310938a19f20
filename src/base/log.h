// Minimal leveled logging to stderr, thread-safe (one write(2) per line).
// Usage: AV_LOG(kInfo, "session {:#x} expired", id);
#pragma once

#include <fmt/core.h>

#include <string_view>

namespace aviary::log {

enum Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
Level GetLevel();
void Write(Level level, std::string_view msg);

}  // namespace aviary::log

#define AV_LOG(level, ...)                                                  \
  do {                                                                      \
    if (::aviary::log::level >= ::aviary::log::GetLevel())                  \
      ::aviary::log::Write(::aviary::log::level, fmt::format(__VA_ARGS__)); \
  } while (0)
