// zoo.cfg keys, defaults, validation messages, server.N lines and myid.
#include "config/zoo_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../source_dir.h"

namespace aviary::config {
namespace {

ServerConfig MustParse(std::string_view text) {
  ServerConfig cfg;
  std::string error;
  EXPECT_TRUE(ParseZooConfig(text, &cfg, &error)) << error;
  return cfg;
}

std::string ParseError(std::string_view text) {
  ServerConfig cfg;
  std::string error;
  EXPECT_FALSE(ParseZooConfig(text, &cfg, &error)) << "accepted: " << text;
  return error;
}

bool HasWarningContaining(const ServerConfig& cfg, std::string_view needle) {
  for (const std::string& w : cfg.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

TEST(ZooConfig, DefaultsWithOnlyDataDir) {
  ServerConfig c = MustParse("dataDir=/var/zk\n");
  EXPECT_EQ(c.tick_time_ms, 3000);
  EXPECT_EQ(c.client_port, 2181);
  EXPECT_TRUE(c.early_replies);
  EXPECT_FALSE(c.client_port_set);
  EXPECT_EQ(c.client_port_address, "");
  EXPECT_EQ(c.data_dir, "/var/zk");
  EXPECT_EQ(c.data_log_dir, "/var/zk");
  EXPECT_EQ(c.max_client_cnxns, 60);
  EXPECT_EQ(c.min_session_timeout_ms, 6000);
  EXPECT_EQ(c.max_session_timeout_ms, 60000);
  EXPECT_EQ(c.jute_max_buffer, 0xfffff);
  EXPECT_FALSE(c.extended_types_enabled);
  EXPECT_EQ(c.global_outstanding_limit, 1000);
  EXPECT_EQ(c.super_digest, "");
  EXPECT_TRUE(c.force_sync);
  EXPECT_EQ(c.snap_count, 100000);
  EXPECT_EQ(c.snap_retain_count, 3);
  EXPECT_EQ(c.wal_group_linger_us, 1000);
  EXPECT_EQ(c.purge_interval_hours, 0);
  EXPECT_EQ(c.pre_alloc_size_kb, 65536);
  EXPECT_EQ(c.client_port_listen_backlog, -1);
  EXPECT_EQ(c.init_limit, 0);
  EXPECT_EQ(c.sync_limit, 0);
  EXPECT_EQ(c.peer_type, PeerType::kParticipant);
  EXPECT_TRUE(c.servers.empty());
  EXPECT_TRUE(c.admin_enable_server);
  EXPECT_EQ(c.admin_server_port, 8080);
  EXPECT_EQ(c.max_sessions, 100000);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.io_threads, 2);
  EXPECT_EQ(c.container_check_interval_ms, 60000);
  EXPECT_FALSE(c.has_myid);
  // ZooKeeper 3.8 default whitelist: srvr only.
  EXPECT_TRUE(c.four_letter_whitelist.Allows("srvr"));
  EXPECT_FALSE(c.four_letter_whitelist.Allows("ruok"));
  EXPECT_FALSE(c.four_letter_whitelist.Allows("stat"));
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ZooConfig, AllKeys) {
  ServerConfig c = MustParse(
      "tickTime=2000\n"
      "clientPort=2182\n"
      "clientPortAddress=127.0.0.1\n"
      "dataDir=/d\n"
      "dataLogDir=/l\n"
      "maxClientCnxns=0\n"
      "minSessionTimeout=1000\n"
      "maxSessionTimeout=90000\n"
      "jute.maxbuffer=0x100000\n"
      "extendedTypesEnabled=TRUE\n"
      "4lw.commands.whitelist=ruok, stat,cons\n"
      "globalOutstandingLimit=50\n"
      "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"
      "forceSync=no\n"
      "snapCount=5000\n"
      "autopurge.snapRetainCount=5\n"
      "autopurge.purgeInterval=24\n"
      "preAllocSize=1024\n"
      "clientPortListenBacklog=128\n"
      "initLimit=10\n"
      "syncLimit=5\n"
      "peerType=Observer\n"
      "admin.enableServer=false\n"
      "admin.serverPort=9090\n"
      "admin.serverAddress=127.0.0.1\n"
      "aviary.maxSessions=42\n"
      "aviary.logLevel=debug\n"
      "aviary.ioThreads=4\n"
      "aviary.walGroupLingerUs=0\n"
      "aviary.forkSnapshots=true\n"
      "aviary.earlyReplies=false\n"
      "aviary.containerCheckIntervalMs=500\n");
  EXPECT_EQ(c.tick_time_ms, 2000);
  EXPECT_EQ(c.client_port, 2182);
  EXPECT_TRUE(c.client_port_set);
  EXPECT_EQ(c.client_port_address, "127.0.0.1");
  EXPECT_EQ(c.data_dir, "/d");
  EXPECT_EQ(c.data_log_dir, "/l");
  EXPECT_EQ(c.max_client_cnxns, 0);
  EXPECT_EQ(c.min_session_timeout_ms, 1000);
  EXPECT_EQ(c.max_session_timeout_ms, 90000);
  EXPECT_EQ(c.jute_max_buffer, 0x100000);
  EXPECT_TRUE(c.extended_types_enabled);
  EXPECT_TRUE(c.four_letter_whitelist.Allows("ruok"));
  EXPECT_TRUE(c.four_letter_whitelist.Allows("stat"));
  EXPECT_TRUE(c.four_letter_whitelist.Allows("cons"));
  EXPECT_TRUE(c.four_letter_whitelist.Allows("srvr"));  // always on
  EXPECT_FALSE(c.four_letter_whitelist.Allows("mntr"));
  EXPECT_EQ(c.global_outstanding_limit, 50);
  EXPECT_EQ(c.super_digest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
  EXPECT_FALSE(c.force_sync);
  EXPECT_EQ(c.snap_count, 5000);
  EXPECT_TRUE(c.fork_snapshots);        // the default is false
  EXPECT_FALSE(c.early_replies);        // the default is true
  EXPECT_EQ(c.wal_group_linger_us, 0);  // the default is 1000
  EXPECT_EQ(c.snap_retain_count, 5);
  EXPECT_EQ(c.purge_interval_hours, 24);
  EXPECT_EQ(c.pre_alloc_size_kb, 1024);
  EXPECT_EQ(c.client_port_listen_backlog, 128);
  EXPECT_EQ(c.init_limit, 10);
  EXPECT_EQ(c.sync_limit, 5);
  EXPECT_EQ(c.peer_type, PeerType::kObserver);
  EXPECT_FALSE(c.admin_enable_server);
  EXPECT_EQ(c.admin_server_port, 9090);
  EXPECT_EQ(c.admin_server_address, "127.0.0.1");
  EXPECT_EQ(c.max_sessions, 42);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.io_threads, 4);
  EXPECT_EQ(c.container_check_interval_ms, 500);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
}

TEST(ZooConfig, ZookeeperPrefixedSystemPropertyForms) {
  ServerConfig c = MustParse(
      "dataDir=/d\n"
      "zookeeper.extendedTypesEnabled=true\n"
      "zookeeper.DigestAuthenticationProvider.superDigest=super:abc=\n"
      "zookeeper.4lw.commands.whitelist=*\n"
      "zookeeper.forceSync=yes\n");
  EXPECT_TRUE(c.extended_types_enabled);
  EXPECT_EQ(c.super_digest, "super:abc=");
  EXPECT_TRUE(c.four_letter_whitelist.all);
  EXPECT_TRUE(c.four_letter_whitelist.Allows("mntr"));
  EXPECT_FALSE(c.four_letter_whitelist.Allows("xyzw"));
  EXPECT_TRUE(c.warnings.empty());
}

TEST(ZooConfig, SeparatorsCommentsAndTrimming) {
  ServerConfig c = MustParse(
      "# comment\n"
      "! bang comment\n"
      "  tickTime : 1000  \n"
      "clientPort 2999\n"
      "dataDir   =   /data/zk   \n"
      "tickTime=1500\n");  // repeated key: last wins, as Properties
  EXPECT_EQ(c.tick_time_ms, 1500);
  EXPECT_EQ(c.client_port, 2999);
  EXPECT_EQ(c.data_dir, "/data/zk");
  EXPECT_EQ(c.min_session_timeout_ms, 3000);
  EXPECT_EQ(c.max_session_timeout_ms, 30000);
}

TEST(ZooConfig, SessionTimeoutDefaultsFollowTickTime) {
  ServerConfig c = MustParse("dataDir=/d\ntickTime=100\nminSessionTimeout=-1\n");
  EXPECT_EQ(c.min_session_timeout_ms, 200);
  EXPECT_EQ(c.max_session_timeout_ms, 2000);
}

TEST(ZooConfig, ClientPortZeroMeansEphemeral) {
  ServerConfig c = MustParse("dataDir=/d\nclientPort=0\n");
  EXPECT_EQ(c.client_port, 0);
}

TEST(ZooConfig, UnknownAndIgnoredKeysAreWarnings) {
  ServerConfig c =
      MustParse("dataDir=/d\nfooBar=1\nstandaloneEnabled=true\nmetricsProvider.fooBaz=7000\nelectionAlg=3\n");
  ASSERT_EQ(c.warnings.size(), 2u);
  EXPECT_TRUE(HasWarningContaining(c, "unknown configuration key fooBar"));
  EXPECT_TRUE(HasWarningContaining(c, "unknown configuration key metricsProvider.fooBaz"));
  EXPECT_EQ(c.election_alg, 3);       // parsed (an ensemble key), valid: no warning
  EXPECT_TRUE(c.standalone_enabled);  // true is what Aviary does: no warning
  EXPECT_TRUE(c.refused.empty());
}

TEST(ZooConfig, RelativeDataDirWarnsUnlessDotSlash) {
  ServerConfig c = MustParse("dataDir=var/data\n");
  EXPECT_TRUE(HasWarningContaining(c, "var/data is relative"));
  ServerConfig d = MustParse("dataDir=./var/data\n");
  EXPECT_TRUE(d.warnings.empty());
  EXPECT_EQ(d.data_log_dir, "./var/data");
}

TEST(ZooConfig, UnknownWhitelistWordWarns) {
  ServerConfig c = MustParse("dataDir=/d\n4lw.commands.whitelist=ruok bogus\n");
  EXPECT_TRUE(c.four_letter_whitelist.Allows("ruok"));
  EXPECT_TRUE(HasWarningContaining(c, "'bogus' is not a known four-letter word"));
}

TEST(ZooConfig, ClampedValuesWarn) {
  ServerConfig c = MustParse("dataDir=/d\nautopurge.snapRetainCount=1\nsnapCount=1\n");
  EXPECT_EQ(c.snap_retain_count, 3);
  EXPECT_EQ(c.snap_count, 2);
  EXPECT_TRUE(HasWarningContaining(c, "Invalid autopurge.snapRetainCount: 1. Defaulting to 3"));
  EXPECT_TRUE(HasWarningContaining(c, "snapCount should be 2 or more"));
}

TEST(ZooConfig, InvalidValueMessages) {
  const std::string d = "dataDir=/d\n";
  EXPECT_EQ(ParseError(d + "tickTime=abc\n"), "invalid value for tickTime: 'abc' (expected a positive integer)");
  EXPECT_EQ(ParseError(d + "tickTime=0\n"), "invalid value for tickTime: '0' (expected a positive integer)");
  EXPECT_EQ(ParseError(d + "tickTime=99999999999\n"),
            "invalid value for tickTime: '99999999999' (expected a positive integer)");
  EXPECT_EQ(ParseError(d + "tickTime=1 # ms\n"), "invalid value for tickTime: '1 # ms' (expected a positive integer)");
  EXPECT_EQ(ParseError(d + "clientPort=-1\n"), "invalid value for clientPort: '-1' (expected a port number 0-65535)");
  EXPECT_EQ(ParseError(d + "clientPort=65536\n"),
            "invalid value for clientPort: '65536' (expected a port number 0-65535)");
  EXPECT_EQ(ParseError(d + "clientPortAddress=\n"),
            "invalid value for clientPortAddress: '' (expected a host name or IP address)");
  EXPECT_EQ(ParseError("dataDir=\n"), "invalid value for dataDir: '' (expected a directory path)");
  EXPECT_EQ(ParseError(d + "maxClientCnxns=-5\n"),
            "invalid value for maxClientCnxns: '-5' (expected a non-negative integer)");
  EXPECT_EQ(ParseError(d + "minSessionTimeout=x\n"),
            "invalid value for minSessionTimeout: 'x' (expected a positive integer or -1)");
  EXPECT_EQ(ParseError(d + "maxSessionTimeout=0\n"),
            "invalid value for maxSessionTimeout: '0' (expected a positive integer or -1)");
  EXPECT_EQ(ParseError(d + "minSessionTimeout=50000\nmaxSessionTimeout=40000\n"),
            "invalid value for minSessionTimeout: '50000' (must not be larger than maxSessionTimeout 40000)");
  // min above the tickTime-derived max default.
  EXPECT_EQ(ParseError(d + "tickTime=1000\nminSessionTimeout=30000\n"),
            "invalid value for minSessionTimeout: '30000' (must not be larger than maxSessionTimeout 20000)");
  EXPECT_EQ(ParseError(d + "jute.maxbuffer=big\n"),
            "invalid value for jute.maxbuffer: 'big' (expected a positive integer, decimal or 0x-prefixed hex)");
  EXPECT_EQ(ParseError(d + "jute.maxbuffer=0xZZ\n"),
            "invalid value for jute.maxbuffer: '0xZZ' (expected a positive integer, decimal or 0x-prefixed hex)");
  EXPECT_EQ(ParseError(d + "extendedTypesEnabled=yes\n"),
            "invalid value for extendedTypesEnabled: 'yes' (expected 'true' or 'false')");
  EXPECT_EQ(ParseError(d + "zookeeper.extendedTypesEnabled=1\n"),
            "invalid value for zookeeper.extendedTypesEnabled: '1' (expected 'true' or 'false')");
  EXPECT_EQ(ParseError(d + "globalOutstandingLimit=0\n"),
            "invalid value for globalOutstandingLimit: '0' (expected a positive integer)");
  EXPECT_EQ(ParseError(d + "DigestAuthenticationProvider.superDigest=nocolon\n"),
            "invalid value for DigestAuthenticationProvider.superDigest: 'nocolon' (expected user:base64digest)");
  EXPECT_EQ(ParseError(d + "forceSync=maybe\n"), "invalid value for forceSync: 'maybe' (expected 'yes' or 'no')");
  EXPECT_EQ(ParseError(d + "snapCount=-1\n"), "invalid value for snapCount: '-1' (expected a positive integer)");
  EXPECT_EQ(ParseError(d + "autopurge.snapRetainCount=-3\n"),
            "invalid value for autopurge.snapRetainCount: '-3' (expected a non-negative integer)");
  EXPECT_EQ(ParseError(d + "autopurge.purgeInterval=1h\n"),
            "invalid value for autopurge.purgeInterval: '1h' (expected a non-negative integer)");
  EXPECT_EQ(ParseError(d + "preAllocSize=0\n"), "invalid value for preAllocSize: '0' (expected a positive integer)");
  EXPECT_EQ(ParseError(d + "clientPortListenBacklog=-2\n"),
            "invalid value for clientPortListenBacklog: '-2' (expected an integer >= -1)");
  EXPECT_EQ(ParseError(d + "initLimit=ten\n"), "invalid value for initLimit: 'ten' (expected a non-negative integer)");
  EXPECT_EQ(ParseError(d + "syncLimit=-1\n"), "invalid value for syncLimit: '-1' (expected a non-negative integer)");
  EXPECT_EQ(ParseError(d + "peerType=leader\n"),
            "invalid value for peerType: 'leader' (expected 'participant' or 'observer')");
  EXPECT_EQ(ParseError(d + "admin.enableServer=on\n"),
            "invalid value for admin.enableServer: 'on' (expected 'true' or 'false')");
  EXPECT_EQ(ParseError(d + "admin.serverPort=0\n"),
            "invalid value for admin.serverPort: '0' (expected a port number 1-65535)");
  EXPECT_EQ(ParseError(d + "aviary.maxSessions=0\n"),
            "invalid value for aviary.maxSessions: '0' (expected a positive integer)");
  EXPECT_EQ(ParseError(d + "aviary.logLevel=loud\n"),
            "invalid value for aviary.logLevel: 'loud' (expected debug, info, warn or error, then optional "
            ",<module>=<level>: unknown log level 'loud' (debug, info, warn, error))");
  EXPECT_EQ(ParseError(d + "aviary.ioThreads=0\n"),
            "invalid value for aviary.ioThreads: '0' (expected an integer 1-64)");
  EXPECT_EQ(ParseError(d + "aviary.walGroupLingerUs=-1\n"),
            "invalid value for aviary.walGroupLingerUs: '-1' (expected microseconds 0-100000)");
  EXPECT_EQ(ParseError(d + "aviary.walGroupLingerUs=100001\n"),
            "invalid value for aviary.walGroupLingerUs: '100001' (expected microseconds 0-100000)");
  EXPECT_EQ(ParseError(d + "znode.container.checkIntervalMs=-1\n"),
            "invalid value for znode.container.checkIntervalMs: '-1' (expected a positive integer)");
}

TEST(ZooConfig, WatchBoundsPerSession) {
  ServerConfig def = MustParse("dataDir=/d\n");
  EXPECT_EQ(def.max_watches_per_session, 1000000);
  EXPECT_EQ(def.max_watch_bytes_per_session, 256LL << 20);
  ServerConfig c = MustParse("dataDir=/d\naviary.maxWatchesPerSession=5\naviary.maxWatchBytesPerSession=0\n");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.max_watches_per_session, 5);
  EXPECT_EQ(c.max_watch_bytes_per_session, 0);  // unlimited
  EXPECT_EQ(ParseError("dataDir=/d\naviary.maxWatchesPerSession=-1\n"),
            "invalid value for aviary.maxWatchesPerSession: '-1' (expected an integer >= 0)");
  EXPECT_EQ(ParseError("dataDir=/d\naviary.maxWatchBytesPerSession=lots\n"),
            "invalid value for aviary.maxWatchBytesPerSession: 'lots' (expected an integer >= 0)");
}

TEST(ZooConfig, ThreadPlacement) {
  EXPECT_EQ(MustParse("dataDir=/d\n").thread_placement, "off");
  EXPECT_EQ(MustParse("dataDir=/d\naviary.threadPlacement=off\n").thread_placement, "off");
  EXPECT_EQ(MustParse("dataDir=/d\naviary.threadPlacement=auto\n").thread_placement, "auto");
  EXPECT_EQ(MustParse("dataDir=/d\naviary.threadPlacement=confine\n").thread_placement, "confine");
  EXPECT_EQ(ParseError("dataDir=/d\naviary.threadPlacement=on\n"),
            "invalid value for aviary.threadPlacement: 'on' (expected auto or off)");
}

TEST(ZooConfig, SnapshotWritebackKeys) {
  ServerConfig def = MustParse("dataDir=/d\n");
  EXPECT_EQ(def.snapshot_writeback_kib, 1024);
  EXPECT_FALSE(def.snapshot_bounded_writeback);
  EXPECT_FALSE(def.snapshot_idle_io);
  EXPECT_EQ(def.snapshot_nice, 0);
  ServerConfig c = MustParse(
      "dataDir=/d\naviary.snapshotWritebackKiB=4096\naviary.snapshotBoundedWriteback=true\n"
      "aviary.snapshotIdleIo=true\naviary.snapshotNice=10\n");
  EXPECT_TRUE(c.warnings.empty());
  EXPECT_EQ(c.snapshot_writeback_kib, 4096);
  EXPECT_TRUE(c.snapshot_bounded_writeback);
  EXPECT_TRUE(c.snapshot_idle_io);
  EXPECT_EQ(c.snapshot_nice, 10);
  EXPECT_EQ(ParseError("dataDir=/d\naviary.snapshotNice=20\n"),
            "invalid value for aviary.snapshotNice: '20' (expected a nice value 0-19)");
  EXPECT_EQ(ParseError("dataDir=/d\naviary.snapshotNice=-1\n"),
            "invalid value for aviary.snapshotNice: '-1' (expected a nice value 0-19)");
  EXPECT_EQ(MustParse("dataDir=/d\naviary.snapshotWritebackKiB=0\n").snapshot_writeback_kib, 0);  // fsync only
  EXPECT_EQ(ParseError("dataDir=/d\naviary.snapshotWritebackKiB=-1\n"),
            "invalid value for aviary.snapshotWritebackKiB: '-1' (expected KiB 0-1048576)");
  EXPECT_EQ(ParseError("dataDir=/d\naviary.snapshotWritebackKiB=2097152\n"),
            "invalid value for aviary.snapshotWritebackKiB: '2097152' (expected KiB 0-1048576)");
  EXPECT_EQ(ParseError("dataDir=/d\naviary.snapshotBoundedWriteback=yes\n"),
            "invalid value for aviary.snapshotBoundedWriteback: 'yes' (expected 'true' or 'false')");
  EXPECT_EQ(ParseError("dataDir=/d\naviary.snapshotIdleIo=1\n"),
            "invalid value for aviary.snapshotIdleIo: '1' (expected 'true' or 'false')");
}

TEST(ZooConfig, DataDirRequired) {
  EXPECT_EQ(ParseError("tickTime=2000\n"), "dataDir is not set");
  EXPECT_EQ(ParseError(""), "dataDir is not set");
}

TEST(ZooConfig, MalformedPropertiesEscapeFails) {
  EXPECT_NE(ParseError("dataDir=/d\nx=\\u00\n").find("\\uxxxx"), std::string::npos);
}

TEST(QuorumServer, Forms) {
  QuorumServerSpec s;
  std::string error;
  ASSERT_TRUE(ParseQuorumServer(1, "zk1:2888:3888", &s, &error)) << error;
  EXPECT_EQ(s.id, 1);
  EXPECT_EQ(s.host, "zk1");
  EXPECT_EQ(s.peer_port, 2888);
  EXPECT_EQ(s.election_port, 3888);
  EXPECT_EQ(s.type, PeerType::kParticipant);
  EXPECT_EQ(s.client_port, 0);
  EXPECT_EQ(s.client_host, "");

  ASSERT_TRUE(ParseQuorumServer(2, "zk2:2888:3888:observer;2181", &s, &error)) << error;
  EXPECT_EQ(s.type, PeerType::kObserver);
  EXPECT_EQ(s.client_host, "0.0.0.0");
  EXPECT_EQ(s.client_port, 2181);

  ASSERT_TRUE(ParseQuorumServer(3, "[::1]:2888:3888:PARTICIPANT;127.0.0.1:2182", &s, &error)) << error;
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.type, PeerType::kParticipant);
  EXPECT_EQ(s.client_host, "127.0.0.1");
  EXPECT_EQ(s.client_port, 2182);
}

TEST(QuorumServer, Errors) {
  QuorumServerSpec s;
  std::string error;
  EXPECT_FALSE(ParseQuorumServer(1, "zk1:2888", &s, &error));
  EXPECT_EQ(error.rfind("invalid value for server.1: 'zk1:2888' (expected host:peerPort:electionPort", 0), 0u) << error;
  EXPECT_FALSE(ParseQuorumServer(1, "zk1:2888:2888", &s, &error));
  EXPECT_EQ(error, "invalid value for server.1: 'zk1:2888:2888' (peer port and election port must be different)");
  EXPECT_FALSE(ParseQuorumServer(1, "zk1:x:3888", &s, &error));
  EXPECT_EQ(error, "invalid value for server.1: 'zk1:x:3888' ('x' and '3888' must be port numbers 1-65535)");
  EXPECT_FALSE(ParseQuorumServer(1, "zk1:2888:3888:leader", &s, &error));
  EXPECT_NE(error.find("unrecognised peer type 'leader'"), std::string::npos) << error;
  EXPECT_FALSE(ParseQuorumServer(1, "zk1:2888:3888;a:b:c", &s, &error));
  EXPECT_FALSE(ParseQuorumServer(1, "zk1:2888:3888;70000", &s, &error));
  EXPECT_NE(error.find("client port '70000'"), std::string::npos) << error;
  EXPECT_FALSE(ParseQuorumServer(1, "a:1:2|b:1:2", &s, &error));
  EXPECT_NE(error.find("multiple addresses"), std::string::npos) << error;
}

TEST(ZooConfig, ServerLines) {
  ServerConfig c = MustParse(
      "dataDir=/d\ninitLimit=5\nsyncLimit=2\n"
      "server.1=h1:2888:3888\nserver.2=h2:2888:3888\nserver.3=h3:2888:3888:observer;2181\n");
  ASSERT_EQ(c.servers.size(), 3u);
  EXPECT_EQ(c.servers[0].id, 1);
  EXPECT_EQ(c.servers[1].host, "h2");
  EXPECT_EQ(c.servers[2].type, PeerType::kObserver);
  EXPECT_TRUE(c.refused.empty()) << c.refused.front();  // two participants: an ensemble member runs

  EXPECT_EQ(ParseError("dataDir=/d\nserver.1=h1:1:2\nserver.2=h2:1:2\n"), "initLimit is not set");
  EXPECT_EQ(ParseError("dataDir=/d\ninitLimit=5\nserver.1=h1:1:2\nserver.2=h2:1:2\n"), "syncLimit is not set");
  EXPECT_EQ(ParseError("dataDir=/d\nserver.x=h1:1:2\n"),
            "invalid key server.x: server id must be a non-negative integer");
  EXPECT_EQ(ParseError("dataDir=/d\nserver.1=h1:1:2\nserver.01=h2:1:2\n"),
            "invalid key server.01: server id 1 is listed twice");
  EXPECT_EQ(ParseError("dataDir=/d\nserver.1=h1:1:2:observer\n"),
            "Observers w/o participants is an invalid configuration");
  EXPECT_EQ(ParseError("dataDir=/d\nserver.1=h1:1:2\nserver.2=h1:1:2:observer\n"),
            "Observers w/o quorum is an invalid configuration");
  ServerConfig one = MustParse("dataDir=/d\nserver.1=h1:1:2\n");
  EXPECT_TRUE(HasWarningContaining(one, "only one server specified"));
  EXPECT_TRUE(one.refused.empty());  // ZooKeeper runs this standalone too
}

TEST(ZooConfig, ApplyMyId) {
  ServerConfig c = MustParse(
      "dataDir=/d\nserver.1=h1:2888:3888;127.0.0.1:2190\nserver.2=h2:2888:3888\n"
      "initLimit=1\nsyncLimit=1\n");
  std::string error;
  ASSERT_TRUE(ApplyMyId("1\n", &c, &error)) << error;
  EXPECT_TRUE(c.has_myid);
  EXPECT_EQ(c.server_id, 1);
  EXPECT_EQ(c.client_port, 2190);  // taken from this server's own line
  EXPECT_EQ(c.client_port_address, "127.0.0.1");

  ServerConfig bad = MustParse("dataDir=/d\n");
  EXPECT_FALSE(ApplyMyId("one\n", &bad, &error));
  EXPECT_EQ(error, "invalid value for myid: 'one' (expected a non-negative integer server id)");

  ServerConfig conflict = MustParse("dataDir=/d\nclientPort=2181\nserver.1=h1:2888:3888;2190\n");
  EXPECT_FALSE(ApplyMyId("1", &conflict, &error));
  EXPECT_NE(error.find("is 2181 in clientPort but 2190 in server.1"), std::string::npos) << error;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/aviary-cfg-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }
  void Write(const std::string& name, const std::string& text) const { std::ofstream(path_ + "/" + name) << text; }

 private:
  std::string path_;
};

TEST(LoadZooConfig, ReadsFileAndMyId) {
  TempDir dir;
  dir.Write("zoo.cfg", "dataDir=" + dir.path() + "\ninitLimit=5\nsyncLimit=2\nserver.7=a:1:2\nserver.8=b:1:2\n");
  dir.Write("myid", "7\n");
  ServerConfig c;
  std::string error;
  ASSERT_TRUE(LoadZooConfig(dir.path() + "/zoo.cfg", &c, &error)) << error;
  EXPECT_TRUE(c.has_myid);
  EXPECT_EQ(c.server_id, 7);
}

TEST(LoadZooConfig, StandaloneIgnoresMyId) {
  TempDir dir;
  dir.Write("zoo.cfg", "dataDir=" + dir.path() + "\n");
  dir.Write("myid", "garbage\n");
  ServerConfig c;
  std::string error;
  ASSERT_TRUE(LoadZooConfig(dir.path() + "/zoo.cfg", &c, &error)) << error;
  EXPECT_FALSE(c.has_myid);
}

TEST(LoadZooConfig, Errors) {
  TempDir dir;
  ServerConfig c;
  std::string error;
  EXPECT_FALSE(LoadZooConfig(dir.path() + "/missing.cfg", &c, &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos) << error;

  dir.Write("quorum.cfg", "dataDir=" + dir.path() + "\ninitLimit=5\nsyncLimit=2\nserver.1=a:1:2\nserver.2=b:1:2\n");
  EXPECT_FALSE(LoadZooConfig(dir.path() + "/quorum.cfg", &c, &error));
  EXPECT_NE(error.find("myid file is missing"), std::string::npos) << error;

  dir.Write("bad.cfg", "dataDir=/d\ntickTime=abc\n");
  EXPECT_FALSE(LoadZooConfig(dir.path() + "/bad.cfg", &c, &error));
  EXPECT_NE(error.find("invalid value for tickTime: 'abc' (expected a positive integer)"), std::string::npos) << error;
  EXPECT_NE(error.find("bad.cfg"), std::string::npos) << error;
}

TEST(LoadZooConfig, ShippedDefaultConfigParsesCleanly) {
  ServerConfig c;
  std::string error;
  std::filesystem::path root = AviarySourceDir();
  ASSERT_TRUE(LoadZooConfig((root / "conf" / "zoo.cfg").string(), &c, &error)) << error;
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  EXPECT_EQ(c.client_port, 2181);
  EXPECT_EQ(c.client_port_address, "127.0.0.1");
  for (const char* w : {"ruok", "srvr", "stat", "envi", "conf", "cons", "mntr", "wchs", "isro", "dirs"}) {
    EXPECT_TRUE(c.four_letter_whitelist.Allows(w)) << w;
  }
}

}  // namespace
}  // namespace aviary::config
