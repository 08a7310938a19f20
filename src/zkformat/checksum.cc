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

void Crc32::Update(std::string_view bytes) {
  // zlib's crc32 is java.util.zip.CRC32's (IEEE 802.3, reflected), and
  // fast in every build: the tree digest runs it over every node a write
  // changes, twice - a parent's whole data for each child created or
  // deleted. Our own slicing-by-8 table loop ran at ~0.8 ns a byte at -O2
  // (zlib: ~0.2) and at 27-66 ns a byte in the -O0 ASan build (zlib: ~1),
  // where 256 creates under a parent holding 300 KB took seconds of one
  // core pass (docs/perf/pipeline.md, session 11).
  if (bytes.empty()) return;
  crc_ = static_cast<uint32_t>(
      crc32_z(crc_, reinterpret_cast<const Bytef*>(bytes.data()), static_cast<z_size_t>(bytes.size())));
}

}  // namespace aviary::zkformat
