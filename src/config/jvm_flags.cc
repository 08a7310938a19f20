#include "config/jvm_flags.h"

#include <algorithm>
#include <string>

namespace aviary::config {
namespace {

constexpr std::string_view kFlag = "-Dzookeeper.";
constexpr std::string_view kPrefix = "zookeeper.";

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Reads the value starting at flags[*pos]; advances *pos past it. A value
// that opens with a quote runs to the matching quote; otherwise it ends at
// whitespace or at a quote (the closing quote of an enclosing assignment,
// as in SERVER_JVMFLAGS="... -Dzookeeper.a=b").
std::string ReadValue(std::string_view flags, size_t* pos) {
  size_t i = *pos;
  if (i < flags.size() && (flags[i] == '\'' || flags[i] == '"')) {
    size_t close = flags.find(flags[i], i + 1);
    if (close != std::string_view::npos) {
      *pos = close + 1;
      return std::string(flags.substr(i + 1, close - i - 1));
    }
  }
  size_t end = i;
  while (end < flags.size() && !IsSpace(flags[end]) && flags[end] != '"' && flags[end] != '\'') ++end;
  *pos = end;
  return std::string(flags.substr(i, end - i));
}

std::string_view Bare(std::string_view key) { return key.starts_with(kPrefix) ? key.substr(kPrefix.size()) : key; }

}  // namespace

PropertyList ZooKeeperPropertiesInFlags(std::string_view flags) {
  PropertyList out;
  size_t pos = 0;
  while ((pos = flags.find(kFlag, pos)) != std::string_view::npos && out.size() < kMaxProperties) {
    // Only a flag that starts a word: "x-Dzookeeper.a" is not one.
    bool starts_word = pos == 0 || IsSpace(flags[pos - 1]) || flags[pos - 1] == '"' || flags[pos - 1] == '\'';
    size_t start = pos + 2;
    size_t end = start;
    while (end < flags.size() && flags[end] != '=' && !IsSpace(flags[end]) && flags[end] != '"' && flags[end] != '\'') {
      ++end;
    }
    std::string key(flags.substr(start, end - start));
    pos = end;
    std::string value;
    if (pos < flags.size() && flags[pos] == '=') {
      ++pos;
      value = ReadValue(flags, &pos);
    }
    if (starts_word && key.size() > kPrefix.size()) out.emplace_back(std::move(key), std::move(value));
  }
  return out;
}

PropertyList MergeFlagProperties(const PropertyList& flag_props, const PropertyList& zoo_cfg) {
  PropertyList merged;
  for (const auto& [k, v] : flag_props) {
    std::string_view bare = Bare(k);
    bool in_cfg = std::any_of(zoo_cfg.begin(), zoo_cfg.end(), [&](const auto& kv) { return Bare(kv.first) == bare; });
    if (in_cfg) continue;
    auto same = std::find_if(merged.begin(), merged.end(), [&](const auto& kv) { return kv.first == k; });
    if (same != merged.end()) {
      same->second = v;  // the later flag wins, as for the JVM
    } else {
      merged.emplace_back(k, v);
    }
  }
  merged.insert(merged.end(), zoo_cfg.begin(), zoo_cfg.end());
  return merged;
}

}  // namespace aviary::config
