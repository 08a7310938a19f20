// Invariant checks that stop the process.
//
// AV_CHECK(cond, fmt, args...) is for invariants whose violation means the
// server's state is corrupt (an out-of-order zxid at the log, a txn that
// prepare validated failing at apply, replies leaving out of pipeline
// order). Carrying on would serve or persist a diverged state, so a failed
// check logs the condition, the location and the message, then aborts.
// It is active in every build type: these are cheap comparisons on paths
// that already do far more work. Never use it for client input: bad input
// gets an error reply, not a crash.
#pragma once

#include <fmt/core.h>

#include <string>

namespace aviary::base {

[[noreturn]] void CheckFailed(const char* file, int line, const char* cond, const std::string& msg);

}  // namespace aviary::base

#define AV_CHECK(cond, ...)                                                             \
  do {                                                                                  \
    if (!(cond)) [[unlikely]]                                                           \
      ::aviary::base::CheckFailed(__FILE__, __LINE__, #cond, fmt::format(__VA_ARGS__)); \
  } while (0)
