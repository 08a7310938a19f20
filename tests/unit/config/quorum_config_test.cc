// The ensemble configuration (config/quorum_config.h): the zoo.cfg and myid
// files of ZooKeeper ensemble members, written as the ZooKeeper
// Administrator's Guide tells an operator to, read into a QuorumConfig with
// ZooKeeper 3.8's rules; and the running of an ensemble still refused.
#include "config/quorum_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace aviary::config {
namespace {

class Member {
 public:
  Member() {
    char tmpl[] = "/tmp/aviary-quorum-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~Member() { std::filesystem::remove_all(dir_); }
  const std::string& dir() const { return dir_; }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(dir_ + "/" + name) << text;
    return dir_ + "/" + name;
  }
  // Loads zoo.cfg (+ myid, + a dynamic file) and builds the quorum view.
  bool Load(ServerConfig* cfg, QuorumConfig* q, std::string* error) const {
    return LoadZooConfig(dir_ + "/zoo.cfg", cfg, error) && BuildQuorumConfig(*cfg, q, error);
  }

 private:
  std::string dir_;
};

// The Administrator's Guide's ensemble ("Running Replicated ZooKeeper"):
// three hosts, the same zoo.cfg on each, myid in dataDir.
std::string GuideConfig(const std::string& data_dir) {
  return "tickTime=2000\n"
         "dataDir=" +
         data_dir +
         "\n"
         "clientPort=2181\n"
         "initLimit=5\n"
         "syncLimit=2\n"
         "server.1=zoo1:2888:3888\n"
         "server.2=zoo2:2888:3888\n"
         "server.3=zoo3:2888:3888\n";
}

TEST(QuorumConfig, ThreeMemberEnsembleAsTheGuideWritesIt) {
  Member m;
  m.Write("zoo.cfg", GuideConfig(m.dir()));
  m.Write("myid", "2\n");
  ServerConfig cfg;
  QuorumConfig q;
  std::string error;
  ASSERT_TRUE(m.Load(&cfg, &q, &error)) << error;
  EXPECT_FALSE(q.standalone);
  EXPECT_EQ(q.my_id, 2);
  EXPECT_EQ(q.my_type, PeerType::kParticipant);
  ASSERT_EQ(q.members.size(), 3u);
  for (int64_t id = 1; id <= 3; ++id) {
    const QuorumMember& s = q.members[static_cast<size_t>(id - 1)];
    EXPECT_EQ(s.id, id);
    EXPECT_EQ(s.type, PeerType::kParticipant);
    ASSERT_EQ(s.addresses.size(), 1u);
    EXPECT_EQ(s.addresses[0], (QuorumAddress{"zoo" + std::to_string(id), 2888, 3888}));
  }
  // This server's client address comes from clientPort; the others' are unknown.
  EXPECT_EQ(q.self().id, 2);
  EXPECT_EQ(q.self().client_port, 2181);
  EXPECT_EQ(q.self().client_host, "0.0.0.0");
  EXPECT_TRUE(q.self().client_from_static);
  EXPECT_EQ(q.Find(1)->client_port, 0);
  EXPECT_EQ(q.voting_ids, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_TRUE(q.observer_ids.empty());
  EXPECT_EQ(q.quorum_size, 2u);
  EXPECT_EQ(q.config_version, 0);
  EXPECT_EQ(q.tick_ms, 2000);
  EXPECT_EQ(q.init_limit_ticks, 5);
  EXPECT_EQ(q.sync_limit_ticks, 2);
  EXPECT_EQ(q.init_timeout_ms, 10000);
  EXPECT_EQ(q.sync_timeout_ms, 4000);
  // ZooKeeper's defaults for what the file does not say.
  EXPECT_EQ(q.election_alg, 3);
  EXPECT_EQ(q.election_port_bind_retry, 3);
  EXPECT_FALSE(q.quorum_listen_on_all_ips);
  EXPECT_FALSE(q.readonly_mode_enabled);
  EXPECT_FALSE(q.digest_stop_on_mismatch.has_value());  // decided by the leader's kind
  EXPECT_TRUE(q.sync_enabled);
  EXPECT_FALSE(q.local_sessions_enabled);
  EXPECT_FALSE(q.local_sessions_upgrading_enabled);
  EXPECT_FALSE(q.reconfig_enabled);
  EXPECT_TRUE(q.warnings.empty()) << q.warnings.front();
  EXPECT_EQ(cfg.min_session_timeout_ms, 4000);
  EXPECT_EQ(cfg.max_session_timeout_ms, 40000);
  // An ensemble member runs (server/quorum_peer.h): nothing is refused.
  std::string refusal;
  EXPECT_TRUE(CheckHonoured(cfg, &refusal)) << refusal;
}

TEST(QuorumConfig, EveryEnsembleKeyOnLoopbackWithObserverAndClientAddresses) {
  Member m;
  m.Write("zoo.cfg", "tickTime=500\ndataDir=" + m.dir() +
                         "\ninitLimit=10\nsyncLimit=4\n"
                         "electionAlg=3\nelectionPortBindRetry=0\nquorumListenOnAllIPs=true\npeerType=observer\n"
                         "readonlymode.enabled=true\nsyncEnabled=false\nlocalSessionsEnabled=true\n"
                         "localSessionsUpgradingEnabled=true\nstandaloneEnabled=false\nreconfigEnabled=false\n"
                         "aviary.digest.stopOnMismatch=true\n"
                         "server.1=127.0.0.1:12888:13888;127.0.0.1:12181\n"
                         "server.2=127.0.0.1:22888:23888:participant;127.0.0.1:22181\n"
                         "server.3=127.0.0.1:32888:33888;32181\n"
                         "server.4=127.0.0.1:42888:43888:observer;127.0.0.1:42181\n");
  m.Write("myid", "4");
  ServerConfig cfg;
  QuorumConfig q;
  std::string error;
  ASSERT_TRUE(m.Load(&cfg, &q, &error)) << error;
  EXPECT_EQ(q.my_id, 4);
  EXPECT_EQ(q.my_type, PeerType::kObserver);
  EXPECT_EQ(q.voting_ids, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(q.observer_ids, (std::vector<int64_t>{4}));
  EXPECT_EQ(q.quorum_size, 2u);
  EXPECT_EQ(q.Find(3)->client_host, "0.0.0.0");
  EXPECT_EQ(q.Find(3)->client_port, 32181);
  EXPECT_EQ(q.self().client_host, "127.0.0.1");
  EXPECT_EQ(q.self().client_port, 42181);
  EXPECT_FALSE(q.self().client_from_static);
  EXPECT_EQ(cfg.client_port, 42181);  // this server listens where its line says
  EXPECT_EQ(cfg.client_port_address, "127.0.0.1");
  EXPECT_EQ(q.init_timeout_ms, 5000);
  EXPECT_EQ(q.sync_timeout_ms, 2000);
  EXPECT_EQ(q.election_port_bind_retry, 0);
  EXPECT_TRUE(q.quorum_listen_on_all_ips);
  EXPECT_TRUE(q.readonly_mode_enabled);
  EXPECT_FALSE(q.sync_enabled);
  EXPECT_TRUE(q.local_sessions_enabled);
  EXPECT_TRUE(q.local_sessions_upgrading_enabled);
  EXPECT_FALSE(q.reconfig_enabled);
  EXPECT_EQ(q.digest_stop_on_mismatch, std::optional<bool>(true));
  EXPECT_TRUE(q.warnings.empty()) << q.warnings.front();
  EXPECT_TRUE(q.IsQuorum({1, 3}));
  EXPECT_FALSE(q.IsQuorum({1, 4}));     // an observer does not count
  EXPECT_FALSE(q.IsQuorum({2, 2, 9}));  // nor duplicates or strangers
  std::string refusal;
  // An ensemble member runs, read-only mode included.
  EXPECT_TRUE(CheckHonoured(cfg, &refusal)) << refusal;
}

TEST(QuorumConfig, DynamicConfigFileWithVersionFromItsName) {
  Member m;
  const std::string dyn = m.Write("zoo.cfg.dynamic.100000000",
                                  "server.1=10.0.0.1:2888:3888:participant;0.0.0.0:2181\n"
                                  "server.2=10.0.0.2:2888:3888:participant;0.0.0.0:2181\n"
                                  "server.3=10.0.0.3:2888:3888:participant;0.0.0.0:2181\n");
  m.Write("zoo.cfg", "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=" + m.dir() +
                         "\nreconfigEnabled=true\nstandaloneEnabled=false\ndynamicConfigFile=" + dyn + "\n");
  m.Write("myid", "3\n");
  ServerConfig cfg;
  QuorumConfig q;
  std::string error;
  ASSERT_TRUE(m.Load(&cfg, &q, &error)) << error;
  EXPECT_EQ(q.config_version, 0x100000000);
  EXPECT_EQ(q.members.size(), 3u);
  EXPECT_EQ(q.self().addresses[0].host, "10.0.0.3");
  EXPECT_EQ(cfg.client_port, 2181);
  EXPECT_TRUE(q.reconfig_enabled);
  std::string refusal;
  EXPECT_FALSE(CheckHonoured(cfg, &refusal));
  for (const char* key : {"dynamicConfigFile", "reconfigEnabled"}) {
    EXPECT_NE(refusal.find(std::string("\n  ") + key + ": "), std::string::npos) << key << ": " << refusal;
  }
  // ZooKeeper's rules for the dynamic file.
  m.Write("zoo.cfg.dynamic.100000000", "server.1=a:1:2\nserver.2=b:1:2\nversion=100000000\n");
  EXPECT_FALSE(m.Load(&cfg, &q, &error));
  EXPECT_NE(error.find("dynamic file shouldn't have version inside"), std::string::npos) << error;
  m.Write("zoo.cfg.dynamic.100000000", "server.1=a:1:2\nserver.2=b:1:2\nclientPort=2181\n");
  EXPECT_FALSE(m.Load(&cfg, &q, &error));
  EXPECT_NE(error.find("Unrecognised parameter: clientPort"), std::string::npos) << error;
  m.Write("zoo.cfg", "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=" + m.dir() + "\nserver.1=a:1:2\n" +
                         "dynamicConfigFile=" + dyn + "\n");
  EXPECT_FALSE(m.Load(&cfg, &q, &error));
  EXPECT_NE(error.find("parameter: server.1 must be in a separate dynamic config file"), std::string::npos) << error;
  // The .next form carries its version inside.
  ServerConfig next = cfg;
  ASSERT_TRUE(
      ApplyDynamicConfig("server.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\nversion=200000003\n", true, &next, &error))
      << error;
  EXPECT_EQ(next.config_version, 0x200000003);
  int64_t v = 0;
  EXPECT_FALSE(ConfigVersionFromFileName("/etc/zookeeper/zoo.cfg.dynamic", &v));
  EXPECT_TRUE(ConfigVersionFromFileName("zoo.cfg.dynamic.1001", &v));
  EXPECT_EQ(v, 0x1001);
}

TEST(QuorumConfig, ZooKeeperValidationRules) {
  Member m;
  ServerConfig cfg;
  QuorumConfig q;
  std::string error;
  // myid must name a server.N line.
  m.Write("zoo.cfg", GuideConfig(m.dir()));
  m.Write("myid", "7\n");
  EXPECT_FALSE(m.Load(&cfg, &q, &error));
  EXPECT_EQ(error, "myid: my id 7 not in the peer list (no server.7 line)");
  // A missing myid.
  std::filesystem::remove(m.dir() + "/myid");
  EXPECT_FALSE(m.Load(&cfg, &q, &error));
  EXPECT_NE(error.find("myid file is missing"), std::string::npos) << error;
  // peerType differs from the server's own line: the line wins (warning).
  m.Write("zoo.cfg", GuideConfig(m.dir()) + "peerType=observer\n");
  m.Write("myid", "1\n");
  ASSERT_TRUE(m.Load(&cfg, &q, &error)) << error;
  EXPECT_EQ(q.my_type, PeerType::kParticipant);
  ASSERT_EQ(q.warnings.size(), 1u);
  EXPECT_NE(q.warnings[0].find("doesn't match peerType (observer)"), std::string::npos) << q.warnings[0];
  // One participant with standaloneEnabled (the default): standalone.
  m.Write("zoo.cfg", "dataDir=" + m.dir() + "\nserver.1=zoo1:2888:3888\n");
  ASSERT_TRUE(m.Load(&cfg, &q, &error)) << error;
  EXPECT_TRUE(q.standalone);
  EXPECT_TRUE(CheckHonoured(cfg, &error)) << error;
  // ... and without: a one-member ensemble.
  m.Write("zoo.cfg",
          "dataDir=" + m.dir() + "\ninitLimit=5\nsyncLimit=2\nstandaloneEnabled=false\nserver.1=zoo1:2888:3888\n");
  ASSERT_TRUE(m.Load(&cfg, &q, &error)) << error;
  EXPECT_FALSE(q.standalone);
  EXPECT_EQ(q.quorum_size, 1u);
  // TTL session ids leave 8 bits for the server id.
  m.Write("zoo.cfg", GuideConfig(m.dir()) + "server.255=zoo4:2888:3888\nextendedTypesEnabled=true\n");
  m.Write("myid", "255\n");
  EXPECT_FALSE(m.Load(&cfg, &q, &error));
  EXPECT_NE(error.find("at most 254 with extendedTypesEnabled"), std::string::npos) << error;
  // Hierarchical quorums are not supported.
  m.Write("zoo.cfg", GuideConfig(m.dir()) + "group.1=1:2:3\n");
  m.Write("myid", "1\n");
  EXPECT_FALSE(m.Load(&cfg, &q, &error));
  EXPECT_NE(error.find("hierarchical quorums are not supported"), std::string::npos) << error;
}

TEST(QuorumConfig, BadValuesNameTheKey) {
  auto parse_error = [](const std::string& extra) {
    ServerConfig cfg;
    std::string error;
    EXPECT_FALSE(ParseZooConfig("dataDir=/d\n" + extra, &cfg, &error)) << extra;
    return error;
  };
  EXPECT_EQ(parse_error("electionAlg=1\n"),
            "invalid value for electionAlg: '1' (only 3 (fast leader election) is supported)");
  EXPECT_EQ(parse_error("quorumListenOnAllIPs=yes\n"),
            "invalid value for quorumListenOnAllIPs: 'yes' (expected 'true' or 'false')");
  EXPECT_EQ(parse_error("syncEnabled=1\n"), "invalid value for syncEnabled: '1' (expected 'true' or 'false')");
  EXPECT_EQ(parse_error("aviary.digest.stopOnMismatch=yes\n"),
            "invalid value for aviary.digest.stopOnMismatch: 'yes' (expected 'true' or 'false')");
  EXPECT_EQ(parse_error("localSessionsEnabled=on\n"),
            "invalid value for localSessionsEnabled: 'on' (expected 'true' or 'false')");
  EXPECT_EQ(parse_error("readonlymode.enabled=maybe\n"),
            "invalid value for readonlymode.enabled: 'maybe' (expected 'true' or 'false')");
  EXPECT_EQ(parse_error("initLimit=-1\n").rfind("invalid value for initLimit: '-1'", 0), 0u);
  EXPECT_EQ(parse_error("syncLimit=x\n").rfind("invalid value for syncLimit: 'x'", 0), 0u);
  EXPECT_EQ(parse_error("peerType=leader\n"),
            "invalid value for peerType: 'leader' (expected 'participant' or 'observer')");
  EXPECT_EQ(parse_error("version=xyz\n"),
            "invalid value for version: 'xyz' (expected a hexadecimal configuration version)");
  EXPECT_EQ(parse_error("server.1=a:1:2\nserver.2=b:1:2\n"), "initLimit is not set");
  EXPECT_EQ(parse_error("initLimit=5\nserver.1=a:1:2\nserver.2=b:1:2\n"), "syncLimit is not set");
  // ZooKeeper falls back to 3 for a bad electionPortBindRetry (with a log line).
  ServerConfig cfg;
  std::string error;
  ASSERT_TRUE(ParseZooConfig("dataDir=/d\nzookeeper.electionPortBindRetry=-2\n", &cfg, &error)) << error;
  EXPECT_EQ(cfg.election_port_bind_retry, 3);
  ASSERT_EQ(cfg.warnings.size(), 1u);
  EXPECT_NE(cfg.warnings[0].find("electionPortBindRetry"), std::string::npos);
  // observer.syncEnabled (ZooKeeper's zookeeper.observer.syncEnabled) wins.
  ASSERT_TRUE(ParseZooConfig("dataDir=/d\nobserver.syncEnabled=false\nsyncEnabled=true\n", &cfg, &error)) << error;
  EXPECT_FALSE(cfg.sync_enabled);
}

// zookeeper.digest.enabled, zookeeper.snapshotSizeFactor and
// zookeeper.commitLogCount: system properties in ZooKeeper (a zoo.cfg key it
// does not know becomes "zookeeper.<key>"), both spellings here.
TEST(QuorumConfig, DigestAndSyncTuningKeys) {
  const std::string servers = "initLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\nserver.3=c:1:2\n";
  ServerConfig cfg;
  std::string error;
  ASSERT_TRUE(ParseZooConfig("dataDir=/d\n" + servers, &cfg, &error)) << error;
  EXPECT_TRUE(cfg.digest_enabled);
  EXPECT_DOUBLE_EQ(cfg.snapshot_size_factor, 0.33);
  EXPECT_EQ(cfg.commit_log_count, 500);
  ASSERT_TRUE(ParseZooConfig(
      "dataDir=/d\n" + servers + "digest.enabled=false\nsnapshotSizeFactor=0.5\ncommitLogCount=800\n", &cfg, &error))
      << error;
  EXPECT_FALSE(cfg.digest_enabled);
  EXPECT_DOUBLE_EQ(cfg.snapshot_size_factor, 0.5);
  EXPECT_EQ(cfg.commit_log_count, 800);
  EXPECT_TRUE(cfg.warnings.empty()) << cfg.warnings[0];
  cfg.server_id = 1;
  cfg.has_myid = true;
  QuorumConfig q;
  ASSERT_TRUE(BuildQuorumConfig(cfg, &q, &error)) << error;
  EXPECT_FALSE(q.digest_enabled);
  EXPECT_DOUBLE_EQ(q.snapshot_size_factor, 0.5);
  EXPECT_EQ(q.commit_log_count, 800);
  ASSERT_TRUE(
      ParseZooConfig("dataDir=/d\nzookeeper.digest.enabled=FALSE\nzookeeper.snapshotSizeFactor=-1\n", &cfg, &error))
      << error;
  EXPECT_FALSE(cfg.digest_enabled);
  EXPECT_DOUBLE_EQ(cfg.snapshot_size_factor, -1);  // negative: no DIFF from the log files
  EXPECT_FALSE(ParseZooConfig("dataDir=/d\ndigest.enabled=no\n", &cfg, &error));
  EXPECT_EQ(error, "invalid value for digest.enabled: 'no' (expected 'true' or 'false')");
  // As ZKDatabase: a factor above 1 or not a number, and a commitLogCount
  // below 500, are the defaults (with a warning), not errors.
  for (const char* bad : {"snapshotSizeFactor=1.5\n", "snapshotSizeFactor=abc\n", "snapshotSizeFactor=\n"}) {
    ASSERT_TRUE(ParseZooConfig(std::string("dataDir=/d\n") + bad, &cfg, &error)) << error;
    EXPECT_DOUBLE_EQ(cfg.snapshot_size_factor, 0.33) << bad;
    ASSERT_EQ(cfg.warnings.size(), 1u) << bad;
    EXPECT_NE(cfg.warnings[0].find("snapshotSizeFactor"), std::string::npos);
  }
  ASSERT_TRUE(ParseZooConfig("dataDir=/d\ncommitLogCount=10\n", &cfg, &error)) << error;
  EXPECT_EQ(cfg.commit_log_count, 500);
  EXPECT_EQ(cfg.warnings.size(), 1u);
}

TEST(QuorumConfig, MultipleAddressesNeedMultiAddressEnabled) {
  const std::string servers =
      "initLimit=5\nsyncLimit=2\n"
      "server.1=10.0.0.1:2888:3888|10.1.0.1:2889:3889;2181\n"
      "server.2=10.0.0.2:2888:3888\nserver.3=10.0.0.3:2888:3888\n";
  ServerConfig cfg;
  std::string error;
  EXPECT_FALSE(ParseZooConfig("dataDir=/d\n" + servers, &cfg, &error));
  EXPECT_NE(error.find("multiAddress.enabled=true"), std::string::npos) << error;
  // The key may come after the lines (ZooKeeper reads all keys first).
  ASSERT_TRUE(ParseZooConfig("dataDir=/d\n" + servers + "multiAddress.enabled=true\n", &cfg, &error)) << error;
  ASSERT_EQ(cfg.servers[0].addresses.size(), 2u);
  EXPECT_EQ(cfg.servers[0].addresses[1], (QuorumAddress{"10.1.0.1", 2889, 3889}));
  EXPECT_EQ(cfg.servers[0].client_port, 2181);
  QuorumServerSpec s;
  EXPECT_FALSE(ParseQuorumServer(1, "a:1:2:observer|b:1:2:participant", &s, &error, true));
  EXPECT_NE(error.find("similar roles"), std::string::npos) << error;
  ASSERT_TRUE(ParseQuorumServer(1, "a:1:2|b:1:2:observer", &s, &error, true)) << error;
  EXPECT_EQ(s.type, PeerType::kObserver);
  // Java's split drops a trailing empty part: "h:1:2:" is "h:1:2".
  ASSERT_TRUE(ParseQuorumServer(1, "h:1:2:", &s, &error)) << error;
  EXPECT_EQ(s.type, PeerType::kParticipant);
}

}  // namespace
}  // namespace aviary::config
