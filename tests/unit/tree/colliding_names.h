// Two child names whose full paths share a 32-bit PathHash (the index's
// collision handling), for the tree unit tests.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>

#include "tree/data_tree.h"

namespace aviary::tree::test_util {

inline std::pair<std::string, std::string> CollidingNames(const std::string& parent) {
  std::unordered_map<uint32_t, std::string> seen;
  for (int i = 0;; ++i) {
    const std::string name = "c" + std::to_string(i);
    auto [it, fresh] = seen.emplace(PathHash(parent + "/" + name), name);
    if (!fresh) return {it->second, name};
  }
}

}  // namespace aviary::tree::test_util
