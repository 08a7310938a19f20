// The two checksums ZooKeeper's files use, as java.util.zip computes them:
// Adler-32 (FileTxnLog record checksums, snapshot seals) and CRC-32 (IEEE
// 802.3, reflected, as java.util.zip.CRC32; the per-node tree digest).
// Both are zlib's (the same algorithms as java.util.zip). Pure functions
// and small value types; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aviary::zkformat {

class Adler32 {
 public:
  void Update(std::string_view bytes);
  uint32_t value() const { return value_; }

 private:
  uint32_t value_ = 1;  // zlib's running value (adler32_z)
};

inline uint32_t Adler32Of(std::string_view bytes) {
  Adler32 a;
  a.Update(bytes);
  return a.value();
}

// The same CRC as java.util.zip.CRC32: zlib's crc32 for inputs of
// kZlibFromBytes or more, a slicing-by-8 table loop below (zlib's is
// several times slower on a digest's short pieces).
class Crc32 {
 public:
  static constexpr size_t kZlibFromBytes = 512;
  void Update(std::string_view bytes);
  uint32_t value() const { return crc_; }

 private:
  uint32_t crc_ = 0;  // zlib's running value: the CRC of the bytes so far
};

}  // namespace aviary::zkformat
