// Four-letter word replies, byte for byte as ZooKeeper 3.8 prints them.
#include "admin/four_letter.h"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

#include "admin/environment.h"
#include "admin/java_format.h"

namespace aviary::admin {
namespace {

FourLetterWhitelist AllWords() { return config::ParseFourLetterWhitelist("*"); }

ServerSnapshot Sample() {
  ServerSnapshot s;
  s.full_version = "3.8.0-aviary-0.1.0, built on 2026-01-01 00:00 UTC";
  s.zxid = 0x1a;
  s.node_count = 5;
  s.watch_count = 3;
  s.ephemerals_count = 1;
  s.approximate_data_size = 123;
  s.wchs_connections = 2;
  s.wchs_paths = 3;
  s.wchs_total = 4;
  s.latency_min_ms = 0;
  s.latency_avg_ms = 1.0 / 3.0;
  s.latency_max_ms = 7;
  s.packets_received = 10;
  s.packets_sent = 9;
  s.outstanding_requests = 0;
  s.alive_connections = 2;
  ConnectionInfo a;
  a.remote_ip = "127.0.0.1";
  a.remote_port = 40000;
  a.interest_ops = 0;
  a.received = 1;
  ConnectionInfo b;
  b.remote_ip = "127.0.0.1";
  b.remote_port = 40001;
  b.received = 5;
  b.sent = 4;
  b.session_id = 0x100000abcdef0001;
  b.last_op = "GETD";
  b.established_ms = 1700000000000;
  b.session_timeout_ms = 30000;
  b.last_cxid = 3;
  b.last_zxid = 0x1a;
  b.last_response_ms = 1700000000500;
  b.last_latency_ms = 1;
  b.min_latency_ms = 0;
  b.avg_latency_ms = 0;
  b.max_latency_ms = 2;
  s.connections = {a, b};
  s.open_fd_count = 40;
  s.max_fd_count = 1024;
  s.client_port = 2181;
  s.data_dir = "/var/zk";
  s.data_log_dir = "/var/zklog";
  s.data_dir_size = 4096;
  s.log_dir_size = 8192;
  s.tick_time_ms = 2000;
  s.min_session_timeout_ms = 4000;
  s.max_session_timeout_ms = 40000;
  s.environment = BuildEnvironment(s.full_version);
  return s;
}

TEST(FourLetter, Recognition) {
  for (const char* w : {"ruok", "srvr", "stat", "envi", "conf", "cons", "mntr", "wchs", "isro", "dirs", "crst", "srst",
                        "dump", "wchc", "wchp", "gtmk", "stmk", "hash"}) {
    EXPECT_TRUE(IsFourLetterWord(w)) << w;
  }
  EXPECT_FALSE(IsFourLetterWord("RUOK"));
  EXPECT_FALSE(IsFourLetterWord("ruo"));
  EXPECT_FALSE(IsFourLetterWord(std::string_view("\0\0\0\x2c", 4)));
  EXPECT_EQ(RenderFourLetter("abcd", Sample(), AllWords()), "");
}

TEST(FourLetter, RuokAndIsro) {
  EXPECT_EQ(RenderFourLetter("ruok", Sample(), AllWords()), "imok");
  EXPECT_EQ(RenderFourLetter("isro", Sample(), AllWords()), "rw");
  ServerSnapshot ro = Sample();
  ro.read_only = true;
  EXPECT_EQ(RenderFourLetter("isro", ro, AllWords()), "ro");
}

TEST(FourLetter, WhitelistRefusal) {
  FourLetterWhitelist wl = config::DefaultFourLetterWhitelist();
  EXPECT_EQ(RenderFourLetter("ruok", Sample(), wl), "ruok is not executed because it is not in the whitelist.\n");
  EXPECT_EQ(RenderFourLetter("mntr", Sample(), wl), "mntr is not executed because it is not in the whitelist.\n");
  // srvr is always enabled.
  EXPECT_EQ(RenderFourLetter("srvr", Sample(), wl).rfind("Zookeeper version: ", 0), 0u);
  // Known but unimplemented words are refused even with "*".
  EXPECT_EQ(RenderFourLetter("dump", Sample(), AllWords()),
            "dump is not executed because it is not in the whitelist.\n");
}

TEST(FourLetter, Srvr) {
  EXPECT_EQ(RenderFourLetter("srvr", Sample(), AllWords()),
            "Zookeeper version: 3.8.0-aviary-0.1.0, built on 2026-01-01 00:00 UTC\n"
            "Latency min/avg/max: 0/0.3333/7\n"
            "Received: 10\n"
            "Sent: 9\n"
            "Connections: 2\n"
            "Outstanding: 0\n"
            "Zxid: 0x1a\n"
            "Mode: standalone\n"
            "Node count: 5\n");
}

// A leader's srvr ends with its proposal sizes (ZooKeeper's StatCommand:
// BufferStats last/min/max, -1 before the first proposal).
TEST(FourLetter, LeaderSrvrShowsProposalSizes) {
  ServerSnapshot s = Sample();
  s.server_state = "leader";
  s.proposal_sizes = ServerSnapshot::Sizes{};
  std::string out = RenderFourLetter("srvr", s, AllWords());
  EXPECT_TRUE(out.ends_with("Mode: leader\nNode count: 5\nProposal sizes last/min/max: -1/-1/-1\n")) << out;
  s.proposal_sizes = ServerSnapshot::Sizes{52, 36, 1200};
  out = RenderFourLetter("stat", s, AllWords());
  EXPECT_TRUE(out.ends_with("Node count: 5\nProposal sizes last/min/max: 52/36/1200\n")) << out;
}

TEST(FourLetter, StatListsClientsBriefly) {
  EXPECT_EQ(RenderFourLetter("stat", Sample(), AllWords()),
            "Zookeeper version: 3.8.0-aviary-0.1.0, built on 2026-01-01 00:00 UTC\n"
            "Clients:\n"
            " /127.0.0.1:40000[0](queued=0,recved=1,sent=0)\n"
            " /127.0.0.1:40001[1](queued=0,recved=5,sent=4)\n"
            "\n"
            "Latency min/avg/max: 0/0.3333/7\n"
            "Received: 10\n"
            "Sent: 9\n"
            "Connections: 2\n"
            "Outstanding: 0\n"
            "Zxid: 0x1a\n"
            "Mode: standalone\n"
            "Node count: 5\n");
}

TEST(FourLetter, ConsFullDetail) {
  EXPECT_EQ(RenderFourLetter("cons", Sample(), AllWords()),
            " /127.0.0.1:40000[0](queued=0,recved=1,sent=0)\n"
            " /127.0.0.1:40001[1](queued=0,recved=5,sent=4,sid=0x100000abcdef0001,lop=GETD,est=1700000000000,"
            "to=30000,lcxid=0x3,lzxid=0x1a,lresp=1700000000500,llat=1,minlat=0,avglat=0,maxlat=2)\n"
            "\n");
}

TEST(FourLetter, ConnectionAddressForms) {
  ConnectionInfo c;
  c.remote_ip = "::1";
  c.remote_port = 5;
  c.session_id = -1;
  c.last_zxid = -1;
  std::string line = RenderConnection(c, false);
  EXPECT_EQ(line.rfind(" /[::1]:5[1](", 0), 0u) << line;
  EXPECT_NE(line.find("sid=0xffffffffffffffff"), std::string::npos) << line;
  EXPECT_EQ(line.find("lcxid"), std::string::npos) << line;  // last_cxid < 0 is omitted
}

TEST(FourLetter, Conf) {
  EXPECT_EQ(RenderFourLetter("conf", Sample(), AllWords()),
            "clientPort=2181\nsecureClientPort=-1\ndataDir=/var/zk/version-2\ndataDirSize=4096\n"
            "dataLogDir=/var/zklog/version-2\ndataLogSize=8192\ntickTime=2000\nmaxClientCnxns=60\n"
            "minSessionTimeout=4000\nmaxSessionTimeout=40000\nclientPortListenBacklog=-1\nserverId=0\n");
}

TEST(FourLetter, DirsAndWchs) {
  EXPECT_EQ(RenderFourLetter("dirs", Sample(), AllWords()), "datadir_size: 4096\nlogdir_size: 8192\n");
  EXPECT_EQ(RenderFourLetter("wchs", Sample(), AllWords()), "2 connections watching 3 paths\nTotal watches:4\n");
}

TEST(FourLetter, NotServing) {
  ServerSnapshot s = Sample();
  s.serving = false;
  const std::string msg = "This ZooKeeper instance is not currently serving requests\n";
  for (const char* w : {"srvr", "stat", "conf", "cons", "mntr", "wchs", "dirs"}) {
    EXPECT_EQ(RenderFourLetter(w, s, AllWords()), msg) << w;
  }
  EXPECT_EQ(RenderFourLetter("isro", s, AllWords()), "null");
  EXPECT_EQ(RenderFourLetter("ruok", s, AllWords()), "imok");
}

TEST(FourLetter, Mntr) {
  ServerSnapshot s = Sample();
  s.extra_metrics = {{"aviary_custom", "1"}};
  std::string out = RenderFourLetter("mntr", s, AllWords());
  std::map<std::string, std::string> kv;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    ASSERT_EQ(line.rfind("zk_", 0), 0u) << line;
    kv[line.substr(0, tab)] = line.substr(tab + 1);
  }
  EXPECT_EQ(
      out.rfind("zk_version\t3.8.0-aviary-0.1.0, built on 2026-01-01 00:00 UTC\nzk_server_state\tstandalone\n", 0), 0u);
  EXPECT_EQ(kv["zk_avg_latency"], "0.3333");
  EXPECT_EQ(kv["zk_max_latency"], "7");
  EXPECT_EQ(kv["zk_min_latency"], "0");
  EXPECT_EQ(kv["zk_packets_received"], "10");
  EXPECT_EQ(kv["zk_packets_sent"], "9");
  EXPECT_EQ(kv["zk_num_alive_connections"], "2");
  EXPECT_EQ(kv["zk_outstanding_requests"], "0");
  EXPECT_EQ(kv["zk_znode_count"], "5");
  EXPECT_EQ(kv["zk_watch_count"], "3");
  EXPECT_EQ(kv["zk_ephemerals_count"], "1");
  EXPECT_EQ(kv["zk_approximate_data_size"], "123");
  EXPECT_EQ(kv["zk_open_file_descriptor_count"], "40");
  EXPECT_EQ(kv["zk_max_file_descriptor_count"], "1024");
  EXPECT_EQ(kv["zk_connection_drop_probability"], "0.0");
  EXPECT_EQ(kv["zk_last_client_response_size"], "-1");
  EXPECT_EQ(kv["zk_aviary_custom"], "1");
  EXPECT_EQ(MntrPairs(s).size(), kv.size());
  // First lines in ZooKeeper 3.8.0's order.
  auto pairs = MntrPairs(s);
  ASSERT_GE(pairs.size(), 26u);
  EXPECT_EQ(pairs[2].first, "ephemerals_count");
  EXPECT_EQ(pairs[4].first, "avg_latency");
  EXPECT_EQ(pairs[25].first, "non_mtls_local_conn_count");
  EXPECT_EQ(pairs.back().first, "aviary_custom");
}

// kazoo's KazooClient.server_version(): split envi lines on the first '=',
// strip, take zookeeper.version and match r'([\d\.]*).*' (re.DOTALL).
TEST(FourLetter, EnviVersionParsesLikeKazoo) {
  ServerSnapshot s = Sample();
  s.full_version = FullVersion();
  s.environment = BuildEnvironment(s.full_version);
  std::string out = RenderFourLetter("envi", s, AllWords());
  ASSERT_EQ(out.rfind("Environment:\nzookeeper.version=3.8.0-aviary-0.1.0, built on ", 0), 0u) << out;
  std::map<std::string, std::string> parsed;
  std::istringstream in(out);
  std::string line;
  auto strip = [](std::string v) {
    v.erase(0, v.find_first_not_of(" \t\r\n"));
    v.erase(v.find_last_not_of(" \t\r\n") + 1);
    return v;
  };
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = strip(line.substr(0, eq));
    if (!k.empty()) parsed[k] = strip(line.substr(eq + 1));
  }
  // r'([\d\.]*).*' with re.DOTALL: group 1 is the longest prefix of digits and dots.
  const std::string version = parsed["zookeeper.version"];
  EXPECT_EQ(version.substr(0, version.find_first_not_of("0123456789.")), "3.8.0");
  for (const char* key : {"host.name", "java.version", "os.name", "os.arch", "os.version", "user.name", "user.home",
                          "user.dir", "os.memory.free", "os.memory.max", "os.memory.total"}) {
    EXPECT_TRUE(parsed.count(key)) << key;
  }
  // "3.8.0-aviary-0.1.0, built on YYYY-MM-DD HH:MM UTC"
  const std::string full = FullVersion();
  const std::string prefix = "3.8.0-aviary-0.1.0, built on ";
  ASSERT_EQ(full.rfind(prefix, 0), 0u) << full;
  const std::string date = full.substr(prefix.size());
  const std::string shape = "dddd-dd-dd dd:dd UTC";
  ASSERT_EQ(date.size(), shape.size()) << full;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 'd') {
      EXPECT_TRUE(date[i] >= '0' && date[i] <= '9') << full;
    } else {
      EXPECT_EQ(date[i], shape[i]) << full;
    }
  }
}

// A snapshot holding only `parts` of `full` (what the server builds for a word).
ServerSnapshot Masked(const ServerSnapshot& full, unsigned parts) {
  ServerSnapshot m;
  m.full_version = full.full_version;
  m.server_state = full.server_state;
  m.serving = full.serving;
  m.read_only = full.read_only;
  if (parts & kPartStats) {
    m.zxid = full.zxid;
    m.node_count = full.node_count;
    m.watch_count = full.watch_count;
    m.ephemerals_count = full.ephemerals_count;
    m.approximate_data_size = full.approximate_data_size;
    m.global_sessions = full.global_sessions;
    m.local_sessions = full.local_sessions;
    m.latency_min_ms = full.latency_min_ms;
    m.latency_avg_ms = full.latency_avg_ms;
    m.latency_max_ms = full.latency_max_ms;
    m.packets_received = full.packets_received;
    m.packets_sent = full.packets_sent;
    m.outstanding_requests = full.outstanding_requests;
    m.uptime_ms = full.uptime_ms;
    m.auth_failed_count = full.auth_failed_count;
    m.last_client_response_size = full.last_client_response_size;
    m.min_client_response_size = full.min_client_response_size;
    m.max_client_response_size = full.max_client_response_size;
    m.alive_connections = full.alive_connections;
    m.extra_metrics = full.extra_metrics;
  }
  if (parts & kPartConnections) {
    m.alive_connections = full.alive_connections;
    m.connections = full.connections;
  }
  if (parts & kPartConfig) {
    m.client_port = full.client_port;
    m.secure_client_port = full.secure_client_port;
    m.data_dir = full.data_dir;
    m.data_log_dir = full.data_log_dir;
    m.tick_time_ms = full.tick_time_ms;
    m.max_client_cnxns = full.max_client_cnxns;
    m.min_session_timeout_ms = full.min_session_timeout_ms;
    m.max_session_timeout_ms = full.max_session_timeout_ms;
    m.client_port_listen_backlog = full.client_port_listen_backlog;
    m.server_id = full.server_id;
  }
  if (parts & kPartDirSizes) {
    m.data_dir_size = full.data_dir_size;
    m.log_dir_size = full.log_dir_size;
  }
  if (parts & kPartFds) {
    m.open_fd_count = full.open_fd_count;
    m.max_fd_count = full.max_fd_count;
  }
  if (parts & kPartEnvironment) m.environment = full.environment;
  if (parts & kPartWatchSummary) {
    m.wchs_connections = full.wchs_connections;
    m.wchs_paths = full.wchs_paths;
    m.wchs_total = full.wchs_total;
  }
  return m;
}

TEST(FourLetter, RefusedWordsNeedNoPartOfTheSnapshot) {
  FourLetterWhitelist wl = config::DefaultFourLetterWhitelist();  // srvr only
  for (const char* w : {"ruok", "stat", "cons", "conf", "mntr", "envi", "dirs", "wchs", "isro"}) {
    EXPECT_EQ(PartsFor(w, wl), kPartNone) << w;
  }
  for (const char* w : {"dump", "crst", "stmk", "wchp", "xxxx", "", "mntrX"}) {
    EXPECT_EQ(PartsFor(w, AllWords()), kPartNone) << w;
  }
  EXPECT_EQ(PartsFor("srvr", wl), kPartStats);
}

TEST(FourLetter, EachWordNeedsOnlyItsParts) {
  EXPECT_EQ(PartsFor("ruok", AllWords()), kPartNone);
  EXPECT_EQ(PartsFor("isro", AllWords()), kPartNone);
  EXPECT_EQ(PartsFor("cons", AllWords()), kPartConnections);
  EXPECT_EQ(PartsFor("dirs", AllWords()), kPartDirSizes);
  EXPECT_EQ(PartsFor("envi", AllWords()), kPartEnvironment);
  EXPECT_EQ(PartsFor("mntr", AllWords()), kPartStats | kPartFds | kPartMetrics);
  EXPECT_EQ(PartsFor("conf", AllWords()), kPartConfig | kPartDirSizes);
  // Whatever a word reads lies within its parts: rendering from a snapshot
  // holding only those parts gives the same bytes as from a full one.
  ServerSnapshot full = Sample();
  full.max_client_cnxns = 61;
  full.server_id = 7;
  full.client_port_listen_backlog = 50;
  full.global_sessions = 3;
  full.uptime_ms = 12345;
  full.outstanding_requests = 2;
  full.extra_metrics = {{"extra", "1"}};
  for (const char* w : {"ruok", "srvr", "stat", "envi", "conf", "cons", "mntr", "wchs", "isro", "dirs"}) {
    unsigned parts = PartsFor(w, AllWords());
    EXPECT_EQ(RenderFourLetter(w, Masked(full, parts), AllWords()), RenderFourLetter(w, full, AllWords())) << w;
    if (parts != 0) {
      EXPECT_NE(RenderFourLetter(w, Masked(full, 0), AllWords()), RenderFourLetter(w, full, AllWords())) << w;
    }
  }
}

TEST(JavaFormat, DoubleToString) {
  EXPECT_EQ(JavaDouble(0.0), "0.0");
  EXPECT_EQ(JavaDouble(1.0), "1.0");
  EXPECT_EQ(JavaDouble(1.5), "1.5");
  EXPECT_EQ(JavaDouble(0.1235), "0.1235");
  EXPECT_EQ(JavaDouble(123.25), "123.25");
  EXPECT_EQ(JavaDouble(0.001), "0.001");
  EXPECT_EQ(JavaDouble(0.0001), "1.0E-4");
  EXPECT_EQ(JavaDouble(1e7), "1.0E7");
  EXPECT_EQ(JavaDouble(12345678.5), "1.23456785E7");
  EXPECT_EQ(JavaDouble(9999999.0), "9999999.0");
  EXPECT_EQ(JavaDouble(-2.5), "-2.5");
  EXPECT_EQ(JavaDouble(RoundLatency4(2.0 / 3.0)), "0.6667");
  EXPECT_EQ(JavaDouble(RoundLatency4(0.00004)), "0.0");
  EXPECT_EQ(JavaHex(0), "0");
  EXPECT_EQ(JavaHex(-1), "ffffffffffffffff");
  EXPECT_EQ(JavaSocketAddress("10.0.0.1", 80), "/10.0.0.1:80");
}

}  // namespace
}  // namespace aviary::admin
