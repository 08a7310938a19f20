// The words added for issue 9 (crst srst dump gtmk stmk hash, conf's quorum
// part), rendered as ZooKeeper 3.8 prints them. The expected texts are the
// shapes captured from a real ZooKeeper 3.8 ensemble (leader, follower,
// observer) with this data in it.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "admin/four_letter.h"

namespace aviary::admin {
namespace {

FourLetterWhitelist All() { return config::ParseFourLetterWhitelist("*"); }

class FourLetterWords : public ::testing::Test {
 protected:
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

// 2026-12-01 00:09:14 UTC
constexpr int64_t kT = 1796083754000;

TEST_F(FourLetterWords, JavaDateIsDateToString) {
  EXPECT_EQ(JavaDate(kT), "Tue Dec 01 00:09:14 UTC 2026");
  EXPECT_EQ(JavaDate(kT + 10000), "Tue Dec 01 00:09:24 UTC 2026");
}

TEST_F(FourLetterWords, ResetsAndTraceMask) {
  ServerSnapshot s;
  EXPECT_EQ(RenderFourLetter("crst", s, All()), "Connection stats reset.\n");
  EXPECT_EQ(RenderFourLetter("srst", s, All()), "Server stats reset.\n");
  s.trace_mask = kDefaultTraceMask;
  EXPECT_EQ(RenderFourLetter("gtmk", s, All()), "306");
  s.trace_mask = 274;
  EXPECT_EQ(RenderFourLetter("stmk", s, All()), "274");
  s.trace_mask = -1;
  EXPECT_EQ(RenderFourLetter("gtmk", s, All()), "-1");  // Java's long, printed signed
}

TEST_F(FourLetterWords, NotServing) {
  ServerSnapshot s;
  s.serving = false;
  s.trace_mask = 306;
  const std::string line = "This ZooKeeper instance is not currently serving requests";
  for (const char* w : {"crst", "srst", "dump", "conf", "srvr", "stat", "cons", "mntr"}) {
    EXPECT_EQ(RenderFourLetter(w, s, All()), line + "\n") << w;
  }
  EXPECT_EQ(RenderFourLetter("hash", s, All()), line);   // DigestCommand uses print, not println
  EXPECT_EQ(RenderFourLetter("gtmk", s, All()), "306");  // no server check in ZooKeeper
  EXPECT_EQ(RenderFourLetter("isro", s, All()), "null");
}

TEST_F(FourLetterWords, SetTraceMaskArgument) {
  EXPECT_EQ(ParseSetTraceMask(std::string("stmk\0\0\0\0\0\0\x01\x12", 12)), 274);
  EXPECT_EQ(ParseSetTraceMask(std::string("stmk\xff\xff\xff\xff\xff\xff\xff\xff", 12)), -1);
  EXPECT_EQ(ParseSetTraceMask(std::string("stmk\0\0\0\0\0\0\x01", 11)), std::nullopt);
  EXPECT_EQ(ParseSetTraceMask("stmk"), std::nullopt);
}

TEST_F(FourLetterWords, HashPrintsTheDigestLog) {
  ServerSnapshot s;
  EXPECT_EQ(RenderFourLetter("hash", s, All()), "");  // fewer than 128 txns: empty, as ZooKeeper
  s.digest_log = {{0x100000080, 1234567890123}, {0x100000100, -42}};
  EXPECT_EQ(RenderFourLetter("hash", s, All()), "100000080: 1234567890123\n100000100: -42\n");
}

DumpInfo SampleDump() {
  DumpInfo d;
  d.ephemerals = {{0x10002974d720000, {"/e1"}}, {0x30002974e620000, {"/e3", "/e3b"}}};
  d.connection_buckets = {{kT, {{"127.0.0.1", 52876, 0x30002974e620000}}}, {kT + 10000, {{"127.0.0.1", 52936, 0}}}};
  return d;
}

const char* kEphemeralsAndConnections =
    "ephemeral nodes dump:\n"
    "Sessions with Ephemerals (2):\n"
    "0x10002974d720000:\n\t/e1\n"
    "0x30002974e620000:\n\t/e3\n\t/e3b\n"
    "Connections dump:\n"
    "Connections Sets (2)/(2):\n"
    "1 expire at Tue Dec 01 00:09:14 UTC 2026:\n"
    "\tip: /127.0.0.1:52876 sessionId: 0x30002974e620000\n"
    "1 expire at Tue Dec 01 00:09:24 UTC 2026:\n"
    "\tip: /127.0.0.1:52936 sessionId: 0x0\n";

TEST_F(FourLetterWords, DumpOnALeaderOrStandalone) {
  ServerSnapshot s;
  s.dump = SampleDump();
  s.dump.global_buckets = {{kT - 2000, {0x10002974d720000, 0x30002974e620000}}, {kT - 1000, {0x200029750c90000}}};
  EXPECT_EQ(RenderFourLetter("dump", s, All()), std::string("SessionTracker dump:\n"
                                                            "Session Sets (2)/(3):\n"
                                                            "2 expire at Tue Dec 01 00:09:12 UTC 2026:\n"
                                                            "\t0x10002974d720000\n"
                                                            "\t0x30002974e620000\n"
                                                            "1 expire at Tue Dec 01 00:09:13 UTC 2026:\n"
                                                            "\t0x200029750c90000\n") +
                                                    kEphemeralsAndConnections);
}

TEST_F(FourLetterWords, DumpOnALearner) {
  ServerSnapshot s;
  s.dump = SampleDump();
  s.dump.learner = true;
  s.dump.global_sessions = {{0x10002974d720000, 4000}, {0x200029750c90000, 30000}};
  EXPECT_EQ(RenderFourLetter("dump", s, All()), std::string("SessionTracker dump:\n"
                                                            "Global Sessions(2):\n"
                                                            "0x10002974d720000\t4000ms\n"
                                                            "0x200029750c90000\t30000ms\n") +
                                                    kEphemeralsAndConnections);
}

TEST_F(FourLetterWords, DumpWithLocalSessions) {
  ServerSnapshot s;
  s.dump.local_sessions_enabled = true;
  s.dump.local_buckets = {{kT, {0x1}}};
  s.dump.global_buckets = {};
  EXPECT_EQ(RenderDump(s.dump).substr(0, 120), std::string("SessionTracker dump:\n"
                                                           "Local Session Sets (1)/(1):\n"
                                                           "1 expire at Tue Dec 01 00:09:14 UTC 2026:\n"
                                                           "\t0x1\n"
                                                           "Global Session Sets (0)/(0):\n")
                                                   .substr(0, 120));
  s.dump.learner = true;
  EXPECT_EQ(RenderDump(s.dump).find("Local Session Sets (1)/(1):\n1 expire at Tue Dec 01 00:09:14 UTC 2026:\n\t0x1\n"
                                    "Global Sessions(0):\nephemeral nodes dump:\n"),
            std::string("SessionTracker dump:\n").size());
}

TEST_F(FourLetterWords, ConfOnAnEnsembleMember) {
  ServerSnapshot s;
  s.client_port = 33325;
  s.data_dir = "/d";
  s.data_log_dir = "/d";
  s.tick_time_ms = 200;
  s.max_client_cnxns = 0;
  s.min_session_timeout_ms = 400;
  s.max_session_timeout_ms = 4000;
  s.server_id = 3;
  EnsembleConf e;
  e.init_limit = 10;
  e.sync_limit = 5;
  e.election_port = "32777";
  e.quorum_port = "35545";
  e.members = {{1, "127.0.0.1:48893:36935:participant;127.0.0.1:52979"},
               {4, "127.0.0.1:45381:49179:observer;127.0.0.1:49737"}};
  e.version = 0x100000000;
  s.ensemble = e;
  EXPECT_EQ(RenderFourLetter("conf", s, All()),
            "clientPort=33325\nsecureClientPort=-1\ndataDir=/d/version-2\ndataDirSize=0\n"
            "dataLogDir=/d/version-2\ndataLogSize=0\ntickTime=200\nmaxClientCnxns=0\nminSessionTimeout=400\n"
            "maxSessionTimeout=4000\nclientPortListenBacklog=-1\nserverId=3\n"
            "initLimit=10\nsyncLimit=5\nelectionAlg=3\nelectionPort=32777\nquorumPort=35545\npeerType=0\n"
            "membership: \n"
            "server.1=127.0.0.1:48893:36935:participant;127.0.0.1:52979\n"
            "server.4=127.0.0.1:45381:49179:observer;127.0.0.1:49737\n"
            "version=100000000");  // no newline after the version, as ZooKeeper
}

TEST_F(FourLetterWords, LastOpNamesAreZooKeepers) {
  EXPECT_EQ(LastOpName(4), "GETD");
  EXPECT_EQ(LastOpName(5), "SETD");
  EXPECT_EQ(LastOpName(3), "EXIS");
  EXPECT_EQ(LastOpName(11), "PING");
  EXPECT_EQ(LastOpName(-10), "SESS");
  EXPECT_EQ(LastOpName(12), "GETC");
  EXPECT_EQ(LastOpName(104), "GETACN");
  EXPECT_EQ(LastOpName(100), "NA");  // auth is not a FinalRequestProcessor op
  EXPECT_EQ(LastOpName(9999), "NA");
}

TEST_F(FourLetterWords, PartsOfTheNewWords) {
  EXPECT_EQ(PartsFor("dump", All()), kPartDump);
  EXPECT_EQ(PartsFor("hash", All()), kPartDigestLog);
  for (const char* w : {"crst", "srst", "gtmk", "stmk"}) EXPECT_EQ(PartsFor(w, All()), kPartNone) << w;
  for (const char* w : {"crst", "srst", "dump", "gtmk", "stmk", "hash"}) {
    EXPECT_TRUE(IsImplementedFourLetterWord(w)) << w;
    EXPECT_EQ(PartsFor(w, config::DefaultFourLetterWhitelist()), kPartNone) << w;
  }
}

}  // namespace
}  // namespace aviary::admin
