// The set of four-letter words the server may execute (zoo.cfg key
// 4lw.commands.whitelist, ZooKeeper system property
// zookeeper.4lw.commands.whitelist).
//
// Owns: parsing the list. As in ZooKeeper 3.8: entries are comma separated
// and trimmed (Aviary also splits on whitespace), "*" enables every word,
// and "srvr" is always enabled (zkServer.sh status depends on it). When the
// key is absent the list is just "srvr".
// Thread use: immutable after construction; safe to share read-only.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace aviary::config {

struct FourLetterWhitelist {
  bool all = false;                // "*" was listed
  std::vector<std::string> words;  // enabled words (always contains "srvr")

  bool Allows(std::string_view word) const;
};

// Parses a whitelist value. Words that are not four-letter commands known to
// ZooKeeper are kept (they are harmless) and reported in *unknown if non-null.
// At most kMaxWhitelistWords words are kept.
inline constexpr size_t kMaxWhitelistWords = 64;
FourLetterWhitelist ParseFourLetterWhitelist(std::string_view value, std::vector<std::string>* unknown = nullptr);

// The whitelist ZooKeeper 3.8 uses when the key is not configured.
FourLetterWhitelist DefaultFourLetterWhitelist();

// True for the words ZooKeeper 3.8 recognizes on the client port.
bool IsKnownFourLetterWord(std::string_view word);

}  // namespace aviary::config
