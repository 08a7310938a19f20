#include "base/failpoint.h"

#include <cstdlib>
#include <string_view>

namespace aviary::base {

std::vector<std::string> ActiveFailpoints() {
  std::vector<std::string> names;
  const char* v = std::getenv("AVIARY_FAILPOINT");
  if (v == nullptr) return names;
  std::string_view rest(v);
  while (true) {
    const size_t comma = rest.find(',');
    std::string_view name = rest.substr(0, comma);
    if (!name.empty()) names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return names;
}

}  // namespace aviary::base
