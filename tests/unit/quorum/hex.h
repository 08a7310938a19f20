// Hex helpers for the quorum codec tests: vectors are written as hex with
// spaces between fields, so each field of the Java write order is visible.
#pragma once

#include <string>
#include <string_view>

namespace aviary::quorum::testing {

inline std::string Hex(std::string_view text) {
  std::string out;
  int hi = -1;
  for (char c : text) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) continue;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi << 4 | v));
      hi = -1;
    }
  }
  return out;
}

inline std::string ToHex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(d[c >> 4]);
    out.push_back(d[c & 15]);
  }
  return out;
}

}  // namespace aviary::quorum::testing
