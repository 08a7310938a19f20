#include <gtest/gtest.h>

#include <algorithm>

#include "config/four_letter_whitelist.h"

namespace aviary::config {
namespace {

TEST(Whitelist, DefaultIsSrvrOnly) {
  FourLetterWhitelist wl = DefaultFourLetterWhitelist();
  EXPECT_FALSE(wl.all);
  EXPECT_EQ(wl.words, std::vector<std::string>{"srvr"});
}

TEST(Whitelist, CommaAndSpaceSeparatedTrimmed) {
  std::vector<std::string> unknown;
  FourLetterWhitelist wl = ParseFourLetterWhitelist(" ruok ,stat  cons,,mntr\t, nope ", &unknown);
  for (const char* w : {"ruok", "stat", "cons", "mntr", "srvr"}) EXPECT_TRUE(wl.Allows(w)) << w;
  EXPECT_FALSE(wl.Allows("envi"));
  EXPECT_EQ(unknown, std::vector<std::string>{"nope"});
}

TEST(Whitelist, StarEnablesEveryKnownWord) {
  FourLetterWhitelist wl = ParseFourLetterWhitelist("ruok, *");
  EXPECT_TRUE(wl.all);
  for (const char* w : {"conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk", "srst", "srvr", "stat",
                        "wchc", "wchp", "wchs", "mntr", "isro", "hash"}) {
    EXPECT_TRUE(wl.Allows(w)) << w;
  }
  EXPECT_FALSE(wl.Allows("nope"));
}

TEST(Whitelist, BoundedAndDeduplicated) {
  std::string many;
  // Appended piece by piece: `"w" + std::to_string(i)` trips GCC 12's
  // -Wrestrict false positive at -O3 (GCC bug 105329).
  for (int i = 0; i < 500; ++i) {
    many += 'w';
    many += std::to_string(i);
    many += ",ruok,";
  }
  FourLetterWhitelist wl = ParseFourLetterWhitelist(many);
  EXPECT_LE(wl.words.size(), kMaxWhitelistWords);
  EXPECT_EQ(std::count(wl.words.begin(), wl.words.end(), "ruok"), 1);
}

}  // namespace
}  // namespace aviary::config
