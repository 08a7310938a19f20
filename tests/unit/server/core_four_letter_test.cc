// Four-letter words on the core (issue 6, item 7): the whitelist is checked
// before anything is built, each word builds only its parts, and the parts
// that need system calls (fd scan, directory listings, envi) are computed at
// most once per AdminProbe::kRefreshMs however many words arrive.
#include <gtest/gtest.h>

#include "core_harness.h"

namespace aviary::server::testing {
namespace {

using Kind = Item::Kind;

constexpr int64_t kT0 = 100000;

// Sends `word` on a fresh connection at now_ms and returns the reply text.
std::string Ask(CoreHarness& h, net::ConnId conn, const std::string& word, int64_t now_ms) {
  h.Open(conn);
  h.FourLetter(conn, word);
  h.Run(now_ms);
  auto items = h.Take(conn);
  EXPECT_EQ(items.size(), 2u) << word;
  if (items.size() != 2u) return "";
  EXPECT_EQ(items[1].kind, Kind::kClose) << word;
  return items[0].raw;
}

CoreOptions WithWhitelist(const char* words) {
  CoreOptions o = CoreHarness::DefaultOptions();
  o.config.four_letter_whitelist = config::ParseFourLetterWhitelist(words);
  o.config.data_dir = "/nonexistent-aviary-test";
  return o;
}

TEST(CoreFourLetter, RefusedWordsBuildNothing) {
  CoreHarness h(false, WithWhitelist("srvr"));
  net::ConnId conn = 10;
  for (int i = 0; i < 50; ++i) {
    for (const char* w : {"mntr", "cons", "conf", "envi", "dirs", "stat", "dump", "wchs"}) {
      EXPECT_EQ(Ask(h, conn++, w, kT0 + i), std::string(w) + " is not executed because it is not in the whitelist.\n");
    }
  }
  EXPECT_EQ(h.core().admin_probe(), nullptr) << "a refused word made the core scan fds, directories or the env";
}

TEST(CoreFourLetter, WordsWithoutSystemFactsTouchNoProbe) {
  CoreHarness h(false, WithWhitelist("*"));
  net::ConnId conn = 10;
  EXPECT_EQ(Ask(h, conn++, "ruok", kT0), "imok");
  EXPECT_EQ(Ask(h, conn++, "isro", kT0), "rw");
  EXPECT_NE(Ask(h, conn++, "srvr", kT0).find("Mode: standalone"), std::string::npos);
  EXPECT_NE(Ask(h, conn++, "cons", kT0).find("127.0.0.1:"), std::string::npos);
  EXPECT_NE(Ask(h, conn++, "stat", kT0).find("Clients:"), std::string::npos);
  EXPECT_EQ(h.core().admin_probe(), nullptr);
}

TEST(CoreFourLetter, SystemFactsAreComputedAtMostOncePerRefreshPeriod) {
  CoreHarness h(false, WithWhitelist("*"));
  net::ConnId conn = 10;
  for (int i = 0; i < 100; ++i) {
    EXPECT_NE(Ask(h, conn++, "mntr", kT0 + i).find("zk_open_file_descriptor_count\t"), std::string::npos);
  }
  const AdminProbe* p = h.core().admin_probe();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->fd_scans(), 1);
  EXPECT_EQ(p->dir_scans(), 0) << "mntr does not report directory sizes";
  EXPECT_EQ(p->env_builds(), 0) << "mntr does not report the environment";

  for (int i = 0; i < 100; ++i) {
    EXPECT_NE(Ask(h, conn++, "conf", kT0 + i).find("dataDirSize=0\n"), std::string::npos);
    EXPECT_NE(Ask(h, conn++, "dirs", kT0 + i).find("datadir_size: 0\n"), std::string::npos);
    EXPECT_NE(Ask(h, conn++, "envi", kT0 + i).find("\nuser.name="), std::string::npos);
  }
  EXPECT_EQ(p->fd_scans(), 1);
  EXPECT_EQ(p->dir_scans(), 1);
  EXPECT_EQ(p->env_builds(), 1);

  // A second later the values are refreshed, once.
  int64_t later = kT0 + AdminProbe::kRefreshMs + 100;
  Ask(h, conn++, "mntr", later);
  Ask(h, conn++, "mntr", later + 1);
  Ask(h, conn++, "dirs", later);
  EXPECT_EQ(p->fd_scans(), 2);
  EXPECT_EQ(p->dir_scans(), 2);
  EXPECT_EQ(p->env_builds(), 1);
}

TEST(CoreFourLetter, WchsCountsDataWatches) {
  CoreHarness h(false, WithWhitelist("*"));
  h.Handshake(1, kT0);
  h.Send(1, 1, proto::OpCode::kCreate, CreateBody("/w", ""));
  h.Send(1, 2, proto::OpCode::kGetData, GetDataBody("/w", true));
  h.Run(kT0 + 1);
  h.Take(1);
  EXPECT_EQ(Ask(h, 9, "wchs", kT0 + 2), "1 connections watching 1 paths\nTotal watches:1\n");
}

}  // namespace
}  // namespace aviary::server::testing
