#include "tree/quota.h"

#include <limits>
#include <vector>

namespace aviary::tree {
namespace {

// Java's String.split: pieces between separators, trailing empty pieces dropped.
std::vector<std::string_view> JavaSplit(std::string_view s, bool (*is_sep)(char), bool runs) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i < s.size() && !is_sep(s[i])) continue;
    out.push_back(s.substr(start, i - start));
    if (runs) {
      while (i + 1 < s.size() && is_sep(s[i + 1])) ++i;
    }
    start = i + 1;
  }
  while (!out.empty() && out.back().empty()) out.pop_back();
  return out;
}

bool IsPairSep(char c) { return c == ',' || c == ';'; }
bool IsEq(char c) { return c == '='; }
bool IsSlash(char c) { return c == '/'; }

// Long.parseLong for ASCII text: optional sign, digits, in range.
std::optional<int64_t> ParseLong(std::string_view s) {
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t v = 0;
  const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > limit) return std::nullopt;
  }
  if (neg) return v == (uint64_t{1} << 63) ? std::numeric_limits<int64_t>::min() : -static_cast<int64_t>(v);
  return static_cast<int64_t>(v);
}

}  // namespace

std::string QuotaLimitPath(std::string_view path) {
  return std::string(kQuotaZookeeper) + std::string(path) + "/" + std::string(kQuotaLimitNode);
}

std::string QuotaStatPath(std::string_view path) {
  return std::string(kQuotaZookeeper) + std::string(path) + "/" + std::string(kQuotaStatNode);
}

StatsTrack::StatsTrack(std::string_view text) {
  if (text.empty()) return;
  for (std::string_view pair : JavaSplit(text, IsPairSep, true)) {
    std::vector<std::string_view> kv = JavaSplit(pair, IsEq, false);
    if (kv.size() < 2) continue;  // ZooKeeper: ArrayIndexOutOfBoundsException
    if (kv[1].empty()) {
      values_[std::string(kv[0])] = -1;
    } else if (std::optional<int64_t> v = ParseLong(kv[1])) {
      values_[std::string(kv[0])] = *v;
    }  // else ZooKeeper: NumberFormatException; the pair is skipped
  }
}

int64_t StatsTrack::Get(std::string_view key) const {
  auto it = values_.find(std::string(key));
  return it == values_.end() ? -1 : it->second;
}

std::string StatsTrack::ToString() const {
  std::string out = "count=" + std::to_string(count()) + ",bytes=" + std::to_string(bytes());
  bool first = true;
  for (const auto& [k, v] : values_) {
    if (k == "count" || k == "bytes") continue;
    if (first) out += "=";
    first = false;
    out += ";" + k + "=" + std::to_string(v);
  }
  return out;
}

std::string NormalizeQuotaPath(std::string_view path) {
  std::string out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    // PathTrie.split drops components that are empty after String.trim().
    const std::string_view part = path.substr(i, j - i);
    bool blank = true;
    for (char c : part) blank = blank && static_cast<unsigned char>(c) <= ' ';
    if (!blank) out.append("/").append(part);
    i = j + 1;
  }
  return out.empty() ? "/" : out;
}

void QuotaIndex::Add(std::string_view path) {
  std::string p = NormalizeQuotaPath(path);
  if (p != "/") paths_.insert(std::move(p));
}

void QuotaIndex::Remove(std::string_view path) { paths_.erase(NormalizeQuotaPath(path)); }

bool QuotaIndex::Contains(std::string_view path) const { return paths_.count(NormalizeQuotaPath(path)) != 0; }

std::optional<std::string> QuotaIndex::MaxPrefix(std::string_view path) const {
  if (paths_.empty()) return std::nullopt;
  std::string p = NormalizeQuotaPath(path);
  while (p.size() > 1) {
    if (paths_.count(p) != 0) return p;
    p.resize(p.rfind('/'));
  }
  return std::nullopt;
}

std::optional<std::string> TopNamespace(std::string_view path) {
  std::vector<std::string_view> parts = JavaSplit(path, IsSlash, false);
  if (parts.size() < 2) return std::nullopt;
  return std::string(parts[1]);
}

}  // namespace aviary::tree
