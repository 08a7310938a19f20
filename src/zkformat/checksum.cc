#include "zkformat/checksum.h"

#include <array>

namespace aviary::zkformat {

void Adler32::Update(std::string_view bytes) {
  constexpr uint32_t kMod = 65521;
  constexpr size_t kBlock = 5552;  // largest n with no uint32 overflow before the modulo
  size_t i = 0;
  while (i < bytes.size()) {
    size_t end = i + kBlock < bytes.size() ? i + kBlock : bytes.size();
    for (; i < end; ++i) {
      a_ += static_cast<uint8_t>(bytes[i]);
      b_ += a_;
    }
    a_ %= kMod;
    b_ %= kMod;
  }
}

namespace {

// Slicing-by-8: kCrcTables[0] is the byte-at-a-time table of the reflected
// polynomial; kCrcTables[k][n] is the CRC of byte n followed by k zero bytes,
// so eight input bytes take eight independent lookups (the tree digest runs
// this over every node a write changes, twice).
using CrcTables = std::array<std::array<uint32_t, 256>, 8>;

CrcTables MakeCrcTables() {
  CrcTables t{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[0][n] = c;
  }
  for (size_t k = 1; k < 8; ++k) {
    for (uint32_t n = 0; n < 256; ++n) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
  }
  return t;
}

const CrcTables kCrcTables = MakeCrcTables();

uint32_t LoadLe32(const char* p) {
  const auto* b = reinterpret_cast<const unsigned char*>(p);
  return uint32_t{b[0]} | uint32_t{b[1]} << 8 | uint32_t{b[2]} << 16 | uint32_t{b[3]} << 24;
}

}  // namespace

void Crc32::Update(std::string_view bytes) {
  const auto& t = kCrcTables;
  uint32_t c = crc_;
  const char* p = bytes.data();
  size_t n = bytes.size();
  for (; n >= 8; p += 8, n -= 8) {
    const uint32_t lo = c ^ LoadLe32(p);
    const uint32_t hi = LoadLe32(p + 4);
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^
        t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; n > 0; ++p, --n) c = t[0][(c ^ static_cast<uint8_t>(*p)) & 0xff] ^ (c >> 8);
  crc_ = c;
}

}  // namespace aviary::zkformat
