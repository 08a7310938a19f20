#include "config/config_values.h"

#include <fmt/core.h>

#include <cctype>
#include <limits>

namespace aviary::config::detail {
namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

}  // namespace

std::string_view Trim(std::string_view s) {
  // Java String.trim(): strips all chars <= ' '.
  size_t b = 0, e = s.size();
  while (b < e && static_cast<unsigned char>(s[b]) <= ' ') ++b;
  while (e > b && static_cast<unsigned char>(s[e - 1]) <= ' ') --e;
  return s.substr(b, e - b);
}

bool Invalid(std::string_view key, std::string_view value, std::string_view expectation, std::string* error) {
  *error = fmt::format("invalid value for {}: '{}' ({})", key, value, expectation);
  return false;
}

bool ParseInt64(std::string_view s, int64_t lo, int64_t hi, int64_t* out) {
  size_t i = 0;
  bool neg = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  if (i >= s.size()) return false;
  // Accumulate as a negative number so INT64_MIN is representable.
  int64_t acc = 0;
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') return false;
    int d = c - '0';
    if (acc < (kMin + d) / 10) return false;
    acc = acc * 10 - d;
  }
  if (!neg) {
    if (acc == kMin) return false;
    acc = -acc;
  }
  if (acc < lo || acc > hi) return false;
  *out = acc;
  return true;
}

bool ParseHexInt64(std::string_view s, int64_t* out) {
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

bool IntValue(std::string_view key, std::string_view value, int64_t lo, int64_t hi, std::string_view expectation,
              int64_t* out, std::string* error) {
  if (!ParseInt64(value, lo, hi, out)) return Invalid(key, value, expectation, error);
  return true;
}

bool PositiveInt(std::string_view key, std::string_view value, int* out, std::string* error) {
  int64_t v = 0;
  if (!IntValue(key, value, 1, std::numeric_limits<int32_t>::max(), "expected a positive integer", &v, error)) {
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

bool NonNegativeInt(std::string_view key, std::string_view value, int* out, std::string* error) {
  int64_t v = 0;
  if (!IntValue(key, value, 0, std::numeric_limits<int32_t>::max(), "expected a non-negative integer", &v, error)) {
    return false;
  }
  *out = static_cast<int>(v);
  return true;
}

bool PortValue(std::string_view key, std::string_view value, bool allow_zero, uint16_t* out, std::string* error) {
  int64_t v = 0;
  if (!IntValue(key, value, allow_zero ? 0 : 1, 65535,
                allow_zero ? "expected a port number 0-65535" : "expected a port number 1-65535", &v, error)) {
    return false;
  }
  *out = static_cast<uint16_t>(v);
  return true;
}

bool BoolValue(std::string_view key, std::string_view value, bool* out, std::string* error) {
  if (EqualsIgnoreCase(value, "true")) {
    *out = true;
  } else if (EqualsIgnoreCase(value, "false")) {
    *out = false;
  } else {
    return Invalid(key, value, "expected 'true' or 'false'", error);
  }
  return true;
}

bool YesNoValue(std::string_view key, std::string_view value, bool* out, std::string* error) {
  if (EqualsIgnoreCase(value, "yes") || EqualsIgnoreCase(value, "true")) {
    *out = true;
  } else if (EqualsIgnoreCase(value, "no") || EqualsIgnoreCase(value, "false")) {
    *out = false;
  } else {
    return Invalid(key, value, "expected 'yes' or 'no'", error);
  }
  return true;
}

}  // namespace aviary::config::detail
