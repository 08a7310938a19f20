// Four-letter words on the core (issue 6, item 7): the whitelist is checked
// before anything is built, each word builds only its parts, and the parts
// that need system calls (fd scan, directory listings, envi) are computed at
// most once per AdminProbe::kRefreshMs however many words arrive.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include "core_harness.h"
#include "zkformat/digest.h"

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

// crst / srst / gtmk / stmk / dump / hash (issue 9).
TEST(CoreFourLetter, StmkSetsTheMaskThatGtmkPrints) {
  CoreHarness h(false, WithWhitelist("*"));
  EXPECT_EQ(Ask(h, 10, "gtmk", kT0), "306");
  EXPECT_EQ(Ask(h, 11, std::string("stmk\0\0\0\0\0\0\x01\x12", 12), kT0), "274");
  EXPECT_EQ(Ask(h, 12, "gtmk", kT0), "274");
  CoreHarness refused(false, WithWhitelist("srvr,gtmk"));
  EXPECT_EQ(Ask(refused, 10, std::string("stmk\0\0\0\0\0\0\0\x01", 12), kT0),
            "stmk is not executed because it is not in the whitelist.\n");
  EXPECT_EQ(Ask(refused, 11, "gtmk", kT0), "306") << "a refused stmk changed the mask";
}

TEST(CoreFourLetter, SrstResetsServerStatsCrstConnectionStats) {
  CoreHarness h(false, WithWhitelist("*"));
  h.Handshake(1, kT0);
  for (int i = 0; i < 5; ++i) h.Send(1, i + 1, proto::OpCode::kGetData, GetDataBody("/", false));
  h.Run(kT0 + 1);
  h.Take(1);
  std::string before = Ask(h, 9, "srvr", kT0 + 2);
  EXPECT_EQ(before.find("Received: 0\n"), std::string::npos) << before;
  std::string cons = Ask(h, 10, "cons", kT0 + 2);
  EXPECT_NE(cons.find(":5001[1](queued=0,recved="), std::string::npos) << cons;
  EXPECT_EQ(cons.find(":5001[1](queued=0,recved=0,sent=0,"), std::string::npos) << cons;
  EXPECT_NE(cons.find(",lop=SESS,"), std::string::npos) << cons;  // the harness's requests carry no receive time

  EXPECT_EQ(Ask(h, 11, "crst", kT0 + 3), "Connection stats reset.\n");
  cons = Ask(h, 12, "cons", kT0 + 3);
  EXPECT_NE(cons.find(":5001[1](queued=0,recved=0,sent=0,"), std::string::npos) << cons;
  EXPECT_NE(cons.find(",lop=NA,"), std::string::npos) << cons;
  EXPECT_EQ(cons.find(",lcxid="), std::string::npos) << cons;
  EXPECT_EQ(Ask(h, 13, "srvr", kT0 + 3).find("Received: 0\n"), std::string::npos) << "crst reset the server's";

  EXPECT_EQ(Ask(h, 14, "srst", kT0 + 4), "Server stats reset.\n");
  std::string after = Ask(h, 15, "srvr", kT0 + 4);
  // The srvr itself is counted, as ZooKeeper counts a four-letter word.
  EXPECT_NE(after.find("Latency min/avg/max: 0/0.0/0\nReceived: 1\nSent: 0\n"), std::string::npos) << after;
}

TEST(CoreFourLetter, ResetsNeedAServingServer) {
  CoreHarness h(false, WithWhitelist("*"));
  h.Handshake(1, kT0);
  h.Role(ServingRole::kNotServing);
  h.Run(kT0 + 1);
  const std::string not_serving = "This ZooKeeper instance is not currently serving requests\n";
  EXPECT_EQ(Ask(h, 10, "srst", kT0 + 2), not_serving);
  EXPECT_EQ(Ask(h, 11, "crst", kT0 + 2), not_serving);
  EXPECT_EQ(Ask(h, 12, "dump", kT0 + 2), not_serving);
  EXPECT_EQ(Ask(h, 13, "wchc", kT0 + 2), not_serving);
  EXPECT_EQ(Ask(h, 14, "hash", kT0 + 2), not_serving.substr(0, not_serving.size() - 1));
}

TEST(CoreFourLetter, DumpListsSessionsEphemeralsAndConnections) {
  CoreHarness h(false, WithWhitelist("*"));
  int64_t sid = h.Handshake(1, kT0).sessionId;
  h.Send(1, 1, proto::OpCode::kCreate, CreateBody("/e", "", 1 /* ephemeral */));
  h.Run(kT0 + 1);
  h.Take(1);
  std::string d = Ask(h, 9, "dump", kT0 + 2);
  const std::string hex = fmt::format("{:x}", sid);
  EXPECT_EQ(d.rfind("SessionTracker dump:\nSession Sets (1)/(1):\n1 expire at ", 0), 0u) << d;
  EXPECT_NE(d.find(":\n\t0x" + hex + "\nephemeral nodes dump:\nSessions with Ephemerals (1):\n0x" + hex +
                   ":\n\t/e\nConnections dump:\nConnections Sets ("),
            std::string::npos)
      << d;
  EXPECT_NE(d.find("\tip: /127.0.0.1:5001 sessionId: 0x" + hex + "\n"), std::string::npos) << d;
  EXPECT_NE(d.find("\tip: /127.0.0.1:5009 sessionId: 0x0\n"), std::string::npos) << d;
}

TEST(CoreFourLetter, HashLogsTheTreeDigestEvery128Zxids) {
  CoreHarness h(false, WithWhitelist("*"));
  h.core().InstallDigestLog(nullptr);  // as Server does (digest.enabled is the default)
  h.Handshake(1, kT0);                 // zxid 1
  for (int i = 2; i <= 128; ++i) h.Send(1, i, proto::OpCode::kCreate, CreateBody(fmt::format("/n{}", i), "d"));
  h.Run(kT0 + 1);
  h.Take(1);
  ASSERT_EQ(h.core().last_zxid(), 128);
  const int64_t digest = zkformat::TreeDigestOf(h.core().tree());
  EXPECT_NE(digest, 0);
  EXPECT_EQ(Ask(h, 9, "hash", kT0 + 2), fmt::format("80: {}\n", digest));
  h.Send(1, 200, proto::OpCode::kCreate, CreateBody("/after", "d"));
  h.Run(kT0 + 3);
  EXPECT_EQ(Ask(h, 10, "hash", kT0 + 4), fmt::format("80: {}\n", digest)) << "only multiples of 128 are logged";
}

}  // namespace
}  // namespace aviary::server::testing
