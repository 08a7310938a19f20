// The AdminServer's wiring: its HTTPS context (SetUpAdminHttps), the HTTP
// listener (adminserver::AdminHttpServer) started after the core, each command posted to the core thread and waited
// for (bounded), the ensemble's part filled from the QuorumPeer, and the
// restore body parsed here, off the core thread, before the core installs it.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>

#include "base/log.h"
#include "metrics/server_metrics.h"
#include "peer/peer_tls.h"
#include "server/server.h"
#include "tls/context.h"
#include "tls/store.h"
#include "tree/data_tree.h"
#include "zkformat/files.h"

namespace aviary::server {

using adminserver::CommandId;
using adminserver::CommandResult;

bool SetUpAdminHttps(const config::ServerConfig& cfg, adminserver::HttpOptions* http, std::string* error) {
  http->tls = nullptr;
  if (!cfg.admin_enable_server) return true;
  if (!cfg.AdminHttps()) {
    if (cfg.admin_need_client_auth) {
      AV_LOG(kWarn, "admin.needClientAuth=true has no effect without admin.forceHttps or admin.portUnification");
    }
    return true;
  }
  const tls::TlsOptions& q = cfg.quorum_tls;
  const char* mode = cfg.admin_force_https ? "admin.forceHttps=true" : "admin.portUnification=true";
  if (q.key_store.empty()) {
    *error = fmt::format(
        "{} needs ssl.quorum.keyStore.location: the AdminServer's HTTPS key and certificate come from the quorum "
        "key store, as in ZooKeeper",
        mode);
    return false;
  }
  if (cfg.admin_need_client_auth && q.trust_store.empty()) {
    *error = "admin.needClientAuth=true needs ssl.quorum.trustStore.location to verify client certificates";
    return false;
  }
  for (const auto& [store, key] :
       {std::pair{&q.key_store, "ssl.quorum.keyStore"}, std::pair{&q.trust_store, "ssl.quorum.trustStore"}}) {
    if (!store->empty() && ::access(store->location.c_str(), R_OK) != 0) {
      *error = fmt::format("AdminServer HTTPS: {}.location {}: cannot be read", key, store->location);
      return false;
    }
  }
  // JettyAdminServer hands Jetty the stores only: the protocols and cipher
  // suites are Jetty's defaults, not ssl.quorum.protocol / ciphersuites.
  tls::TlsOptions t;
  t.key_store = q.key_store;
  t.trust_store = q.trust_store;
  t.client_auth = cfg.admin_need_client_auth ? tls::ClientAuth::kNeed : tls::ClientAuth::kNone;
  t.protocol = "TLS";
  t.cert_reload = q.cert_reload;
  t.reload_key = "sslQuorumReloadCertFiles";
  t.log_name = "AdminServer HTTPS";
  if (!q.trust_store.empty() && !cfg.admin_need_client_auth) {
    // ZooKeeper loads the trust store whatever needClientAuth says: a bad one fails the start.
    std::vector<tls::X509Ptr> anchors;
    std::string why;
    if (!tls::LoadTrustStore(q.trust_store, &anchors, &why)) {
      *error = "AdminServer HTTPS: " + peer::QuorumKeyNames(why);
      return false;
    }
  }
  auto source = std::make_shared<tls::ContextSource>(std::move(t));
  std::string why;
  if (!source->Start(&why)) {
    *error = "AdminServer HTTPS: " + peer::QuorumKeyNames(why);
    return false;
  }
  http->tls = std::move(source);
  http->unified = !cfg.admin_force_https;  // forceHttps wins, as in JettyAdminServer
  // The handshake is bounded as a whole (Jetty bounds each wait by the idle timeout).
  http->handshake_timeout_ms = std::min<int64_t>(cfg.admin_idle_timeout_ms, 10000);
  http->on_plaintext = [] { metrics::Server().insecure_admin_count.Add(); };
  return true;
}

void Server::StartAdmin() {
  if (!opts_.admin.enabled) return;
  auto http = std::make_unique<adminserver::AdminHttpServer>(opts_.admin.http, this);
  std::string error;
  if (!http->Start(&error)) {
    // ZooKeeper logs the failure and runs without its AdminServer.
    AV_LOG(kWarn, "{}; the server runs without its AdminServer (admin.serverPort, admin.enableServer=false)", error);
    return;
  }
  const adminserver::HttpOptions& h = opts_.admin.http;
  AV_LOG(kInfo, "Started AdminServer on address {}, port {} and command URL {}{}", h.address, http->port(),
         h.command_url,
         h.tls == nullptr ? ""
         : h.unified      ? " (HTTP and HTTPS: admin.portUnification)"
                          : " (HTTPS: admin.forceHttps)");
  admin_http_ = std::move(http);
}

CommandResult Server::CallCore(std::function<CommandResult(Core&, int64_t)> fn) {
  auto promise = std::make_shared<std::promise<CommandResult>>();
  std::future<CommandResult> answer = promise->get_future();
  core_->PostCall([promise, fn = std::move(fn)](Core& core, int64_t now_ms) { promise->set_value(fn(core, now_ms)); });
  if (answer.wait_for(std::chrono::milliseconds(opts_.admin.command_timeout_ms)) != std::future_status::ready) {
    CommandResult r;
    r.status = 500;
    r.error = "the server did not answer within " + std::to_string(opts_.admin.command_timeout_ms) + " ms";
    return r;
  }
  return answer.get();
}

int Server::Gate(CommandId id, int64_t now_ms) {
  if (id != CommandId::kSnapshot && id != CommandId::kRestore) return 0;
  const bool snapshot = id == CommandId::kSnapshot;
  if (!(snapshot ? opts_.admin.snapshot_enabled : opts_.admin.restore_enabled)) return 503;
  // ZooKeeper's SnapshotCommand builds its RateLimiter in MICROSECONDS.
  const int64_t interval_ms = snapshot ? opts_.admin.rate_limit_interval_ms / 1000 : opts_.admin.rate_limit_interval_ms;
  int64_t& last = snapshot ? last_snapshot_cmd_ms_ : last_restore_cmd_ms_;
  if (last >= 0 && now_ms - last < interval_ms) return 429;
  last = now_ms;
  return 0;
}

CommandResult Server::RunCommand(const adminserver::AdminRequest& req) {
  const CommandId id = req.spec->id;
  if (id == CommandId::kRestore) return Restore(req);
  auto gate = [this](CommandId c, int64_t now_ms) { return Gate(c, now_ms); };
  CommandResult r =
      CallCore([req, gate](Core& core, int64_t now_ms) { return core.RunAdminCommand(req, now_ms, gate); });
  if (r.error) return r;
  if (id == CommandId::kInitialConfiguration) r.extras.initial_configuration = opts_.admin.initial_config;
  if ((id == CommandId::kLeader || id == CommandId::kVotingView || id == CommandId::kZabState) &&
      quorum_peer_ != nullptr) {
    quorum_peer_->FillEnsemble(&r.extras.ensemble);
  }
  if (id == CommandId::kSnapshot && !r.stream_file.empty()) {
    auto streaming = req.params.find("streaming");
    // Boolean.parseBoolean: only "true" (any case) is true; absent means true.
    if (streaming != req.params.end()) {
      std::string v = streaming->second;
      for (char& ch : v) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      if (v != "true") {
        std::remove(r.stream_file.c_str());
        ::rmdir(r.stream_file.substr(0, r.stream_file.rfind('/')).c_str());
        r.stream_file.clear();
      }
    }
  }
  return r;
}

// RestoreCommand: checks on the core (serving, auth, flag, rate limit); only
// then is the body read (bounded) and parsed here as a ZooKeeper snapshot
// file, then installed by the core.
CommandResult Server::Restore(const adminserver::AdminRequest& req) {
  auto gate = [this](CommandId c, int64_t now_ms) { return Gate(c, now_ms); };
  adminserver::AdminRequest checks = req;
  checks.read_body = nullptr;
  CommandResult r =
      CallCore([checks, gate](Core& core, int64_t now_ms) { return core.RunAdminCommand(checks, now_ms, gate); });
  if (r.error || r.status != 200) return r;
  std::string body;
  if (!req.read_body || !req.read_body(&body) || body.empty()) {
    r.status = 400;  // no body, too large, or the client went away
    return r;
  }
  auto tree = std::make_shared<tree::DataTree>();
  auto snap = std::make_shared<zkformat::ZkSnapshot>();
  std::string error;
  if (!zkformat::ParseZkSnapshot(body, "restore request", tree.get(), snap.get(), &error)) {
    AV_LOG(kWarn, "admin restore: the body is not a ZooKeeper snapshot: {}", error);
    r.status = 500;
    return r;
  }
  return CallCore(
      [tree, snap](Core& core, int64_t now_ms) { return core.RestoreFromAdmin(*tree, snap->sessions, now_ms); });
}

}  // namespace aviary::server
