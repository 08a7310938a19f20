// The two checksums ZooKeeper's files use, as java.util.zip computes them:
// Adler-32 (FileTxnLog record checksums, snapshot seals) and CRC-32 (IEEE
// 802.3, reflected, as java.util.zip.CRC32; the per-node tree digest).
// Pure functions and small value types; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

namespace aviary::zkformat {

class Adler32 {
 public:
  void Update(std::string_view bytes);
  uint32_t value() const { return b_ << 16 | a_; }

 private:
  uint32_t a_ = 1;
  uint32_t b_ = 0;
};

inline uint32_t Adler32Of(std::string_view bytes) {
  Adler32 a;
  a.Update(bytes);
  return a.value();
}

class Crc32 {
 public:
  void Update(std::string_view bytes);
  uint32_t value() const { return ~crc_; }

 private:
  uint32_t crc_ = 0xffffffffu;
};

}  // namespace aviary::zkformat
