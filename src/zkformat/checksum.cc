#include "zkformat/checksum.h"

#include <zlib.h>

namespace aviary::zkformat {

// zlib returns the initial value for a null buffer (an empty string_view
// may have one): nothing to add is skipped instead.
void Adler32::Update(std::string_view bytes) {
  if (bytes.empty()) return;
  value_ = static_cast<uint32_t>(
      adler32_z(value_, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<z_size_t>(bytes.size())));
}

namespace {

// Slicing-by-8 for short inputs: t[0] is the byte-at-a-time table of the
// reflected polynomial (0xedb88320), t[k][n] the CRC of byte n followed by k
// zero bytes, so eight input bytes take eight independent lookups. Plain
// arrays (no std::array accessors: an -O0 sanitizer build calls no function
// per byte, and never runs this over more than kZlibFromBytes).
struct CrcTables {
  uint32_t t[8][256];
  constexpr CrcTables() : t{} {
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[0][n] = c;
    }
    for (int k = 1; k < 8; ++k) {
      for (uint32_t n = 0; n < 256; ++n) t[k][n] = (t[k - 1][n] >> 8) ^ t[0][t[k - 1][n] & 0xff];
    }
  }
};

constexpr CrcTables kCrc;  // built at compile time: no start-up order to mind

// zlib's crc32_z(crc, p, n) (the same pre- and post-inversion).
uint32_t CrcShort(uint32_t crc, const unsigned char* p, size_t n) {
  const uint32_t(*t)[256] = kCrc.t;
  uint32_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    const uint32_t lo = c ^ (uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24);
    const uint32_t hi = uint32_t{p[4]} | uint32_t{p[5]} << 8 | uint32_t{p[6]} << 16 | uint32_t{p[7]} << 24;
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^ t[3][hi & 0xff] ^
        t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
  }
  for (; n > 0; ++p, --n) c = t[0][(c ^ *p) & 0xff] ^ (c >> 8);
  return ~c;
}

}  // namespace

void Crc32::Update(std::string_view bytes) {
  // zlib's crc32 is java.util.zip.CRC32's (IEEE 802.3, reflected), and
  // fast on long inputs in every build: the tree digest runs it over every
  // node a write changes, twice - a parent's whole data for each child
  // created or deleted. Our own slicing-by-8 table loop ran at ~0.8 ns a
  // byte at -O2 (zlib: ~0.2) and at 27-66 ns a byte in the -O0 ASan build
  // (zlib: ~1), where 256 creates under a parent holding 300 KB took
  // seconds of one core pass (docs/perf/pipeline.md, session 11).
  // Short inputs (a node's path, its 60 stat bytes, a small value: what a
  // set's digest hashes, six calls per set) are another matter: zlib 1.2.13
  // goes a byte at a time below ~50 bytes and pays a call's set-up each
  // time, 2-4x slower there than slicing-by-8 (~1 us of the core's CPU per
  // set, 17 % of its samples under set load; docs/perf/pipeline.md,
  // session 12). So short inputs take the table loop, long ones zlib.
  if (bytes.empty()) return;
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (bytes.size() < kZlibFromBytes) {
    crc_ = CrcShort(crc_, p, bytes.size());
    return;
  }
  crc_ = static_cast<uint32_t>(crc32_z(crc_, p, static_cast<z_size_t>(bytes.size())));
}

}  // namespace aviary::zkformat
