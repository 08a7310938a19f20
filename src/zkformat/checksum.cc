#include "zkformat/checksum.h"

#include <zlib.h>

#include "base/slicing_crc.h"

namespace aviary::zkformat {

// zlib returns the initial value for a null buffer (an empty string_view
// may have one): nothing to add is skipped instead.
void Adler32::Update(std::string_view bytes) {
  if (bytes.empty()) return;
  value_ = static_cast<uint32_t>(
      adler32_z(value_, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<z_size_t>(bytes.size())));
}

namespace {

// The table loop of short inputs (CRC-32's reflected polynomial).
constexpr base::SlicingCrcTables kCrc(0xedb88320u);

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
    crc_ = base::SlicingCrc(kCrc, crc_, p, bytes.size());
    return;
  }
  crc_ = static_cast<uint32_t>(crc32_z(crc_, p, static_cast<z_size_t>(bytes.size())));
}

}  // namespace aviary::zkformat
