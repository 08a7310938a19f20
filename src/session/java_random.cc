#include "session/java_random.h"

#include <algorithm>

namespace aviary::session {
namespace {
constexpr uint64_t kMultiplier = 0x5DEECE66DULL;
constexpr uint64_t kAddend = 0xBULL;
constexpr uint64_t kMask = (1ULL << 48) - 1;
}  // namespace

void JavaRandom::SetSeed(int64_t seed) { seed_ = (static_cast<uint64_t>(seed) ^ kMultiplier) & kMask; }

int32_t JavaRandom::Next(int bits) {
  seed_ = (seed_ * kMultiplier + kAddend) & kMask;
  // (int) (seed >>> (48 - bits)): the low 32 bits of the shifted value.
  return static_cast<int32_t>(static_cast<uint32_t>(seed_ >> (48 - bits)));
}

std::string JavaRandom::NextBytes(size_t len) {
  std::string out;
  out.reserve(len);
  while (out.size() < len) {
    auto rnd = static_cast<uint32_t>(NextInt());
    for (size_t n = std::min<size_t>(len - out.size(), 4); n-- > 0; rnd >>= 8) {
      out.push_back(static_cast<char>(rnd & 0xff));
    }
  }
  return out;
}

std::string ZooKeeperPassword(int64_t session_id) {
  return JavaRandom(session_id ^ kZooKeeperPasswordSecret).NextBytes(kZooKeeperPasswordBytes);
}

}  // namespace aviary::session
