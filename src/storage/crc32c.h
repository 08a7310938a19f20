// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78): the SSE 4.2
// instruction where the CPU has it, else software slicing-by-8. Stateless and thread-safe. Incremental: start with crc
// = 0 and feed the previous result back in; Crc32c(Crc32c(0, a), b) equals the CRC of a followed by b. Crc32c(0,
// "123456789", 9) == 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>

namespace aviary::storage {

uint32_t Crc32c(uint32_t crc, const void* data, size_t n);

}  // namespace aviary::storage
