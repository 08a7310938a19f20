// The AdminServer's pure parts (command table, Authorization split, JSON
// frame and typing) and its HTTP listener driven over a real loopback
// socket with a fake backend.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <nlohmann/json.hpp>

#include "adminserver/command_result.h"
#include "adminserver/commands.h"
#include "adminserver/http_server.h"

namespace aviary::adminserver {
namespace {

using nlohmann::json;

TEST(Commands, AliasesFindThePrimary) {
  EXPECT_EQ(FindCommand("stat")->primary, "stats");
  EXPECT_EQ(FindCommand("srvr")->primary, "server_stats");
  EXPECT_EQ(FindCommand("mntr")->primary, "monitor");
  EXPECT_EQ(FindCommand("conf")->primary, "configuration");
  EXPECT_EQ(FindCommand("nope"), nullptr);
  EXPECT_EQ(FindCommand(""), nullptr);
  const std::vector<std::string> names = PrimaryNames();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_NE(std::find(names.begin(), names.end(), "watches_by_path"), names.end());
}

TEST(Commands, OnlySnapshotAndRestoreNeedAuthentication) {
  for (const std::string& n : PrimaryNames()) {
    const CommandSpec* c = FindCommand(n);
    const bool sensitive = n == "snapshot" || n == "restore";
    EXPECT_EQ(c->auth_perm != 0, sensitive) << n;
    if (sensitive) {
      EXPECT_EQ(c->auth_perm, 31) << n;
      EXPECT_EQ(c->auth_path, "/") << n;
    }
  }
  EXPECT_TRUE(FindCommand("restore")->post);
}

TEST(AuthInfo, SplitsAsJava) {
  std::string scheme, cred;
  ASSERT_TRUE(SplitAuthInfo("digest u:p", &scheme, &cred));
  EXPECT_EQ(scheme, "digest");
  EXPECT_EQ(cred, "u:p");
  ASSERT_TRUE(SplitAuthInfo("ip", &scheme, &cred));
  EXPECT_EQ(scheme, "ip");
  EXPECT_EQ(cred, "");
  ASSERT_TRUE(SplitAuthInfo("digest u:p  ", &scheme, &cred));  // trailing empties dropped
  EXPECT_FALSE(SplitAuthInfo("a b c", &scheme, &cred));
  EXPECT_FALSE(SplitAuthInfo("a  b", &scheme, &cred));  // "a", "", "b"
}

TEST(Render, FrameAndErrors) {
  CommandResult r;
  json j = json::parse(RenderJson(*FindCommand("ruok"), r));
  EXPECT_EQ(j, json::parse(R"({"command":"ruok","error":null})"));
  r.status = 401;
  r.error = "Not authenticated";
  j = json::parse(RenderJson(*FindCommand("snapshot"), r));
  EXPECT_EQ(j, json::parse(R"({"command":"snapshot","error":"Not authenticated"})"));
  // Standalone leader: the data's error wins and comes first, as Jackson writes it.
  const std::string text = RenderJson(*FindCommand("leader"), CommandResult{});
  EXPECT_LT(text.find("\"error\""), text.find("\"command\""));
  EXPECT_EQ(json::parse(text), json::parse(R"({"error":"server is not initialized","command":"leader"})"));
  EXPECT_EQ(json::parse(RenderUnknown("x")), json::parse(R"({"command":"x","error":"Unknown command: x"})"));
}

TEST(Render, MonitorTypesValues) {
  CommandResult r;
  r.snap.server_state = "follower";
  r.snap.latency_avg_ms = 1.5;
  r.snap.node_count = 7;
  r.snap.extra_metrics.emplace_back("learners", "2");
  json j = json::parse(RenderJson(*FindCommand("monitor"), r));
  EXPECT_TRUE(j["znode_count"].is_number_integer());
  EXPECT_EQ(j["znode_count"], 7);
  EXPECT_TRUE(j["avg_latency"].is_number_float());
  EXPECT_DOUBLE_EQ(j["avg_latency"].get<double>(), 1.5);
  EXPECT_EQ(j["server_state"], "follower");
  EXPECT_EQ(j["learners"], 2);
  EXPECT_TRUE(j["version"].is_string());
}

TEST(Render, ConnectionsBriefAndFull) {
  CommandResult r;
  admin::ConnectionInfo c;
  c.remote_ip = "127.0.0.1";
  c.remote_port = 4242;
  c.session_id = 77;
  r.snap.connections.push_back(c);
  json full = json::parse(RenderJson(*FindCommand("cons"), r));
  EXPECT_EQ(full["connections"][0]["remote_socket_address"], "127.0.0.1:4242");
  EXPECT_EQ(full["connections"][0]["session_id"], 77);
  EXPECT_TRUE(full["secure_connections"].is_array());
  json brief = json::parse(RenderJson(*FindCommand("stat"), r));
  EXPECT_EQ(brief["connections"][0].size(), 5u);
  EXPECT_TRUE(brief["server_stats"]["avg_latency"].is_number_float());
}

TEST(Render, EnsembleViews) {
  CommandResult r;
  r.snap.zxid = (int64_t{2} << 32) | 5;
  EnsembleInfo& e = r.extras.ensemble;
  e.quorum = true;
  e.my_id = 2;
  e.leader_id = 1;
  e.leader_ip = "10.0.0.1";
  e.voting = true;
  e.zab_state = "broadcast";
  e.quorum_addresses = {"10.0.0.2:2888"};
  e.election_addresses = {"10.0.0.2:3888"};
  e.members.push_back({1, {"10.0.0.1:2888"}, {"10.0.0.1:3888"}, "10.0.0.1:2181", false});
  e.members.push_back({3, {"10.0.0.3:2888"}, {"10.0.0.3:3888"}, "", true});
  json z = json::parse(RenderJson(*FindCommand("zabstate"), r));
  EXPECT_EQ(z["last_zxid"], "0x200000005");
  EXPECT_EQ(z["zab_epoch"], 2);
  EXPECT_EQ(z["zab_counter"], 5);
  EXPECT_EQ(z["quorum_address"]["all_ports"], json::parse("[2888]"));
  EXPECT_EQ(z["election_address"]["wildcard_addresses"], json::parse(R"(["0.0.0.0:3888"])"));
  json v = json::parse(RenderJson(*FindCommand("voting_view"), r));
  EXPECT_EQ(v["current_config"].size(), 1u);  // the observer does not vote
  EXPECT_EQ(v["current_config"]["1"]["client_address"], "10.0.0.1:2181");
  json l = json::parse(RenderJson(*FindCommand("leader"), r));
  EXPECT_EQ(l["leader_id"], 1);
  EXPECT_EQ(l["is_leader"], false);
  EXPECT_TRUE(l["error"].is_null());
}

class FakeBackend : public AdminBackend {
 public:
  CommandResult RunCommand(const AdminRequest& req) override {
    std::lock_guard<std::mutex> lock(mu);
    last = req;
    CommandResult r;
    if (req.spec->id == CommandId::kSnapshot) {
      r.status = 401;
      r.error = "Not authenticated";
    }
    if (req.spec->id == CommandId::kRestore) {
      body_read = false;
      body.clear();
      if (req.authorization == "ok") body_read = req.read_body(&body);
      r.status = body_read ? 200 : 400;
    }
    return r;
  }
  std::mutex mu;
  AdminRequest last;
  bool body_read = false;
  std::string body;
};

// One HTTP/1.1 exchange over a fresh socket; the whole response text.
std::string Exchange(uint16_t port, const std::string& request) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return "";
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)!::write(fd, request.data(), request.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string Get(uint16_t port, const std::string& path, const std::string& headers = "") {
  return Exchange(port, "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + "\r\n");
}

TEST(HttpServer, ServesCommandsThroughTheBackend) {
  FakeBackend backend;
  HttpOptions o;
  o.address = "127.0.0.1";
  o.port = 0;
  o.max_body_bytes = 100;
  AdminHttpServer http(o, &backend);
  std::string error;
  ASSERT_TRUE(http.Start(&error)) << error;
  ASSERT_NE(http.port(), 0);

  std::string listing = Get(http.port(), "/commands");
  EXPECT_NE(listing.find("200 OK"), std::string::npos);
  EXPECT_NE(listing.find("<a href=\"/commands/zabstate\">zabstate</a>\n<br/>"), std::string::npos);

  std::string ruok = Get(http.port(), "/commands/ruok?x=1&x=2", "Authorization: digest a:b\r\n");
  EXPECT_NE(ruok.find("application/json"), std::string::npos);
  EXPECT_NE(ruok.find("\"command\": \"ruok\""), std::string::npos);
  {
    std::lock_guard<std::mutex> lock(backend.mu);
    EXPECT_EQ(backend.last.authorization, "digest a:b");
    EXPECT_EQ(backend.last.remote_ip, "127.0.0.1");
    EXPECT_EQ(backend.last.params.at("x"), "1");
  }
  EXPECT_NE(Get(http.port(), "/commands/snapshot").find("401"), std::string::npos);
  std::string unknown = Get(http.port(), "/commands/zzz");
  EXPECT_NE(unknown.find("200 OK"), std::string::npos);
  EXPECT_NE(unknown.find("Unknown command: zzz"), std::string::npos);
  EXPECT_NE(Get(http.port(), "/commands/restore").find("405"), std::string::npos);
  EXPECT_NE(Get(http.port(), "/elsewhere").find("404"), std::string::npos);

  // A POST body is read only when the backend asks (after its checks), bounded.
  auto post = [&](const std::string& auth, size_t n) {
    return Exchange(http.port(),
                    "POST /commands/restore HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                    "Authorization: " +
                        auth + "\r\nContent-Length: " + std::to_string(n) + "\r\n\r\n" + std::string(n, 'b'));
  };
  EXPECT_NE(post("no", 50).find("400"), std::string::npos);
  EXPECT_FALSE(backend.body_read);
  EXPECT_NE(post("ok", 50).find("200 OK"), std::string::npos);
  EXPECT_EQ(backend.body, std::string(50, 'b'));
  EXPECT_EQ(post("ok", 150).find("200 OK"), std::string::npos);  // over max_body_bytes
  EXPECT_FALSE(backend.body_read);

  // A second listener on the same port fails instead of sharing it.
  HttpOptions o2 = o;
  o2.port = http.port();
  AdminHttpServer second(o2, &backend);
  EXPECT_FALSE(second.Start(&error));
  http.Stop();
}

}  // namespace
}  // namespace aviary::adminserver
