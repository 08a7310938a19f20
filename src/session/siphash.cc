#include "session/siphash.h"

#include <bit>

namespace aviary::session {
namespace {

struct State {
  uint64_t v0, v1, v2, v3;

  void Round() {
    v0 += v1;
    v1 = std::rotl(v1, 13);
    v1 ^= v0;
    v0 = std::rotl(v0, 32);
    v2 += v3;
    v3 = std::rotl(v3, 16);
    v3 ^= v2;
    v0 += v3;
    v3 = std::rotl(v3, 21);
    v3 ^= v0;
    v2 += v1;
    v1 = std::rotl(v1, 17);
    v1 ^= v2;
    v2 = std::rotl(v2, 32);
  }
  void Compress(uint64_t m) {
    v3 ^= m;
    Round();
    Round();
    v0 ^= m;
  }
  void Finalize() {
    Round();
    Round();
    Round();
    Round();
  }
  uint64_t Fold() const { return v0 ^ v1 ^ v2 ^ v3; }
};

uint64_t LoadLe(const unsigned char* p, size_t n) {
  uint64_t x = 0;
  for (size_t i = 0; i < n; ++i) x |= static_cast<uint64_t>(p[i]) << (8 * i);
  return x;
}

void StoreLe(uint64_t x, uint8_t* out) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(x >> (8 * i));
}

// Initialises the state and absorbs the whole message (incl. length block).
State Absorb(uint64_t k0, uint64_t k1, std::string_view msg, bool wide) {
  State s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
          k1 ^ 0x7465646279746573ULL};
  if (wide) s.v1 ^= 0xee;
  const auto* p = reinterpret_cast<const unsigned char*>(msg.data());
  size_t n = msg.size();
  size_t full = n / 8 * 8;
  for (size_t i = 0; i < full; i += 8) s.Compress(LoadLe(p + i, 8));
  uint64_t last = (static_cast<uint64_t>(n) << 56) | LoadLe(p + full, n - full);
  s.Compress(last);
  return s;
}

}  // namespace

uint64_t SipHash24(uint64_t k0, uint64_t k1, std::string_view msg) {
  State s = Absorb(k0, k1, msg, false);
  s.v2 ^= 0xff;
  s.Finalize();
  return s.Fold();
}

std::array<uint8_t, 16> SipHash24x128(uint64_t k0, uint64_t k1, std::string_view msg) {
  State s = Absorb(k0, k1, msg, true);
  std::array<uint8_t, 16> out{};
  s.v2 ^= 0xee;
  s.Finalize();
  StoreLe(s.Fold(), out.data());
  s.v1 ^= 0xdd;
  s.Finalize();
  StoreLe(s.Fold(), out.data() + 8);
  return out;
}

}  // namespace aviary::session
