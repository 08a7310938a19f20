// Software CRC-32 by slicing-by-8, for any reflected polynomial: the
// fallback of storage's CRC-32C (Castagnoli) and the short-input path of
// zkformat's CRC-32 (IEEE, java.util.zip.CRC32's). Header-only and
// constexpr-built, so each user's tables are compile-time constants.
// Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aviary::base {

// t[0] is the byte-at-a-time table of the polynomial; t[k][n] the CRC of
// byte n followed by k zero bytes, so eight input bytes take eight
// independent lookups. Plain arrays (no std::array accessors): an -O0
// sanitizer build calls no function per byte.
struct SlicingCrcTables {
  uint32_t t[8][256];
  constexpr explicit SlicingCrcTables(uint32_t reflected_poly) : t{} {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? reflected_poly ^ (c >> 1) : c >> 1;
      t[0][n] = c;
    }
    for (int k = 1; k < 8; ++k) {
      for (uint32_t n = 0; n < 256; ++n) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
    }
  }
};

// The CRC of p[0, n) continued from crc (pre- and post-inverted, as zlib's
// crc32_z: SlicingCrc(SlicingCrc(0, a), b) is the CRC of a followed by b).
// Bytes are assembled one by one: independent of the host's endianness.
inline uint32_t SlicingCrc(const SlicingCrcTables& tables, uint32_t crc, const unsigned char* p, size_t n) {
  const uint32_t(*t)[256] = tables.t;
  uint32_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    const uint32_t lo = c ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][p[4]] ^ t[2][p[5]] ^
        t[1][p[6]] ^ t[0][p[7]];
  }
  for (; n > 0; ++p, --n) c = t[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return ~c;
}

}  // namespace aviary::base
