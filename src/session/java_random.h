// java.util.Random's generator, bit for bit (its documented 48-bit linear
// congruential generator: seed' = seed * 0x5DEECE66D + 0xB mod 2^48, next(n)
// = the top n of the 48 bits; setSeed scrambles with 0x5DEECE66D; nextBytes
// fills from successive nextInt()s, low byte first), and the session password
// Apache ZooKeeper derives from it.
//
// Why: every member of a ZooKeeper ensemble checks a moved session's
// password by recomputing it from the session id alone
// (ZooKeeperServer.generatePasswd: new Random(id ^ 0xB3415C00L).nextBytes of
// 16 bytes), so an Aviary ensemble member must make and check exactly these
// bytes. Anyone who knows a session id can compute its password; that is
// ZooKeeper's scheme, not a secret (docs/COMPATIBILITY.md).
//
// Pure functions; no state shared between calls. Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace aviary::session {

class JavaRandom {
 public:
  explicit JavaRandom(int64_t seed) { SetSeed(seed); }
  void SetSeed(int64_t seed);
  // Random.next(bits), 1 <= bits <= 32.
  int32_t Next(int bits);
  int32_t NextInt() { return Next(32); }
  // Random.nextBytes: `len` bytes.
  std::string NextBytes(size_t len);

 private:
  uint64_t seed_ = 0;  // 48 significant bits
};

// ZooKeeperServer.superSecret.
inline constexpr int64_t kZooKeeperPasswordSecret = 0xB3415C00LL;
inline constexpr size_t kZooKeeperPasswordBytes = 16;

// ZooKeeperServer.generatePasswd(session_id).
std::string ZooKeeperPassword(int64_t session_id);

}  // namespace aviary::session
