// SipHash-2-4 (Aumasson & Bernstein), 64- and 128-bit output variants,
// written from the published specification. Used to derive session
// passwords from (session id, server secret). Pure functions, thread-safe.
// SipHash is a keyed PRF, not a general-purpose cryptographic hash; its
// strength here is bounded by the 128-bit key the caller derives.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace aviary::session {

uint64_t SipHash24(uint64_t k0, uint64_t k1, std::string_view msg);

// 16 output bytes in the reference byte order (two little-endian words).
std::array<uint8_t, 16> SipHash24x128(uint64_t k0, uint64_t k1, std::string_view msg);

}  // namespace aviary::session
