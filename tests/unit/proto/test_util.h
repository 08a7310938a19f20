// Helpers shared by the proto unit tests: hex literals for golden vectors and
// frame splitting.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace aviary::proto::testing {

// "00 0a ff" -> bytes; whitespace and '|' are ignored.
inline std::string Hex(std::string_view text) {
  std::string out;
  int hi = -1;
  for (char c : text) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      continue;
    }
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi << 4 | v));
      hi = -1;
    }
  }
  EXPECT_EQ(hi, -1) << "odd number of hex digits";
  return out;
}

inline std::string ToHex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// Checks the int32 length prefix of one whole frame and returns its payload.
inline std::string Payload(std::string_view frame) {
  EXPECT_GE(frame.size(), 4u);
  if (frame.size() < 4) return {};
  uint32_t len = static_cast<uint8_t>(frame[0]) << 24 | static_cast<uint8_t>(frame[1]) << 16 |
                 static_cast<uint8_t>(frame[2]) << 8 | static_cast<uint8_t>(frame[3]);
  EXPECT_EQ(len, frame.size() - 4);
  return std::string(frame.substr(4));
}

}  // namespace aviary::proto::testing
