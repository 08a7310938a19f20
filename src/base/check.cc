#include "base/check.h"

#include <cstdlib>

#include "base/log.h"

namespace aviary::base {

void CheckFailed(const char* file, int line, const char* cond, const std::string& msg) {
  ::aviary::log::Write(::aviary::log::kError, fmt::format("CHECK failed at {}:{}: {}: {}", file, line, cond, msg));
  std::abort();
}

}  // namespace aviary::base
