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

std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t n = 0; n < 256; ++n) {
    uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
    t[n] = c;
  }
  return t;
}

const std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

}  // namespace

void Crc32::Update(std::string_view bytes) {
  uint32_t c = crc_;
  for (char ch : bytes) c = kCrcTable[(c ^ static_cast<uint8_t>(ch)) & 0xff] ^ (c >> 8);
  crc_ = c;
}

}  // namespace aviary::zkformat
