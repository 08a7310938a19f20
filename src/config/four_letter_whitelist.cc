#include "config/four_letter_whitelist.h"

#include <algorithm>
#include <array>

namespace aviary::config {
namespace {

constexpr std::array<std::string_view, 18> kKnownWords = {
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk",
    "srst", "srvr", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash",
};

void AddWord(FourLetterWhitelist* wl, std::string_view w) {
  if (std::find(wl->words.begin(), wl->words.end(), w) != wl->words.end()) return;
  if (wl->words.size() >= kMaxWhitelistWords) return;
  wl->words.emplace_back(w);
}

}  // namespace

bool IsKnownFourLetterWord(std::string_view word) {
  return std::find(kKnownWords.begin(), kKnownWords.end(), word) != kKnownWords.end();
}

bool FourLetterWhitelist::Allows(std::string_view word) const {
  if (all) return IsKnownFourLetterWord(word);
  return std::find(words.begin(), words.end(), word) != words.end();
}

FourLetterWhitelist ParseFourLetterWhitelist(std::string_view value, std::vector<std::string>* unknown) {
  FourLetterWhitelist wl;
  size_t i = 0;
  while (i < value.size()) {
    auto is_sep = [](char c) { return c == ',' || c == ' ' || c == '\t' || c == '\f' || c == '\r' || c == '\n'; };
    while (i < value.size() && is_sep(value[i])) ++i;
    size_t start = i;
    while (i < value.size() && !is_sep(value[i])) ++i;
    std::string_view w = value.substr(start, i - start);
    if (w.empty()) continue;
    if (w == "*") {
      wl.all = true;
      continue;
    }
    if (!IsKnownFourLetterWord(w) && unknown != nullptr && unknown->size() < kMaxWhitelistWords) {
      unknown->emplace_back(w);
    }
    AddWord(&wl, w);
  }
  AddWord(&wl, "srvr");
  return wl;
}

FourLetterWhitelist DefaultFourLetterWhitelist() { return ParseFourLetterWhitelist(""); }

}  // namespace aviary::config
