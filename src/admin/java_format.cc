#include "admin/java_format.h"

#include <fmt/core.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace aviary::admin {

std::string JavaDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  // Shortest round-trip digits in scientific form: "d[.ddd]e[+-]xx".
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  std::string sign;
  if (sci[0] == '-') {
    sign = "-";
    sci.erase(0, 1);
  }
  size_t e = sci.find('e');
  int exp = std::atoi(sci.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  double mag = std::fabs(v);
  if (mag >= 1e-3 && mag < 1e7) {
    std::string out;
    if (exp >= 0) {
      size_t int_len = static_cast<size_t>(exp) + 1;
      while (digits.size() < int_len) digits.push_back('0');
      out = digits.substr(0, int_len) + "." + (digits.size() > int_len ? digits.substr(int_len) : "0");
    } else {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
    return sign + out;
  }
  std::string mant = digits.substr(0, 1) + "." + (digits.size() > 1 ? digits.substr(1) : "0");
  return sign + mant + "E" + std::to_string(exp);
}

double RoundLatency4(double v) {
  if (!std::isfinite(v)) return v;
  double scaled = std::floor(std::fabs(v) * 10000.0 + 0.5) / 10000.0;
  return v < 0 ? -scaled : scaled;
}

std::string JavaHex(int64_t v) { return fmt::format("{:x}", static_cast<uint64_t>(v)); }

std::string JavaSocketAddress(std::string_view ip, uint16_t port) {
  if (ip.find(':') != std::string_view::npos) return fmt::format("/[{}]:{}", ip, port);
  return fmt::format("/{}:{}", ip, port);
}

}  // namespace aviary::admin
