#include "tree/path.h"

#include <cstdint>
#include <string>
#include <vector>

namespace aviary::tree {
namespace {

constexpr uint32_t kReplacement = 0xFFFD;

// Decodes UTF-8 into UTF-16-like units as Java would hold them: malformed
// sequences become U+FFFD and supplementary characters a surrogate (0xD800),
// both of which PathUtils rejects.
std::vector<uint32_t> DecodeUnits(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    int len = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((b & 0xE0) == 0xC0) {
      len = 2, cp = b & 0x1F, min = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3, cp = b & 0x0F, min = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4, cp = b & 0x07, min = 0x10000;
    } else {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    bool ok = i + len <= s.size();
    for (int k = 1; ok && k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) {
        ok = false;
      } else {
        cp = (cp << 6) | (c & 0x3F);
      }
    }
    if (!ok || cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      out.push_back(kReplacement);
      ++i;
      continue;
    }
    out.push_back(cp >= 0x10000 ? 0xD800 : cp);
    i += len;
  }
  return out;
}

bool InvalidChar(uint32_t c) {
  return (c > 0 && c <= 0x1F) || (c >= 0x7F && c <= 0x9F) || (c >= 0xD800 && c <= 0xF8FF) ||
         (c >= 0xFFF0 && c <= 0xFFFF);
}

// PathUtils.validatePath's loop over the path's UTF-16-like units `c`
// (c[0] is the leading '/').
template <typename Units>
proto::Err ValidateUnits(const Units& c, size_t n) {
  uint32_t last = '/';
  for (size_t i = 1; i < n; last = c[i], ++i) {
    const uint32_t ch = c[i];
    const bool ends = (i + 1 == n) || c[i + 1] == '/';
    if (ch == 0) return proto::Err::kBadArguments;
    if (ch == '/' && last == '/') return proto::Err::kBadArguments;
    if (ch == '.' && last == '.') {
      if (c[i - 2] == '/' && ends) return proto::Err::kBadArguments;
    } else if (ch == '.') {
      if (c[i - 1] == '/' && ends) return proto::Err::kBadArguments;
    } else if (InvalidChar(ch)) {
      return proto::Err::kBadArguments;
    }
  }
  return proto::Err::kOk;
}

// An ASCII path's bytes are its units: no decoding, no vector.
struct AsciiUnits {
  std::string_view s;
  uint32_t operator[](size_t i) const { return static_cast<unsigned char>(s[i]); }
};

bool IsAscii(std::string_view s) {
  unsigned char any = 0;
  for (const char ch : s) any |= static_cast<unsigned char>(ch);
  return any < 0x80;
}

// Most paths are printable ASCII with no '.' and no "//": nothing in them
// can fail (PathUtils' rules are about control and non-ASCII characters,
// empty names and "." / ".." names). One branch-free scan the compiler can
// vectorise tells; anything else takes the unit-by-unit check below (the
// write's prepare ran that check per character: ~4 % of the core's time at
// set 16 x 16, docs/perf/pipeline.md).
bool PlainAscii(std::string_view path) {
  const auto* p = reinterpret_cast<const unsigned char*>(path.data());
  unsigned bad = 0;
  for (size_t i = 1; i < path.size(); ++i) {
    const unsigned c = p[i];
    bad |= static_cast<unsigned>(c < 0x20) | static_cast<unsigned>(c >= 0x7F) | static_cast<unsigned>(c == '.') |
           (static_cast<unsigned>(c == '/') & static_cast<unsigned>(p[i - 1] == '/'));
  }
  return bad == 0;
}

proto::Err Validate(std::string_view path) {
  if (path.empty() || path[0] != '/') return proto::Err::kBadArguments;
  if (path.size() == 1) return proto::Err::kOk;
  if (path.back() == '/') return proto::Err::kBadArguments;
  if (PlainAscii(path)) return proto::Err::kOk;
  if (IsAscii(path)) return ValidateUnits(AsciiUnits{path}, path.size());
  const std::vector<uint32_t> c = DecodeUnits(path);
  return ValidateUnits(c, c.size());
}

}  // namespace

proto::Err ValidatePath(std::string_view path, bool sequential) {
  if (!sequential) return Validate(path);
  std::string p(path);
  p.push_back('1');
  return Validate(p);
}

std::string_view ParentOf(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace aviary::tree
