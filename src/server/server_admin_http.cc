// The AdminServer's wiring: the HTTP listener (adminserver::AdminHttpServer)
// started after the core, each command posted to the core thread and waited
// for (bounded), the ensemble's part filled from the QuorumPeer, and the
// restore body parsed here, off the core thread, before the core installs it.
#include <unistd.h>

#include <chrono>
#include <future>

#include "base/log.h"
#include "server/server.h"
#include "tree/data_tree.h"
#include "zkformat/files.h"

namespace aviary::server {

using adminserver::CommandId;
using adminserver::CommandResult;

void Server::StartAdmin() {
  if (!opts_.admin.enabled) return;
  auto http = std::make_unique<adminserver::AdminHttpServer>(opts_.admin.http, this);
  std::string error;
  if (!http->Start(&error)) {
    // ZooKeeper logs the failure and runs without its AdminServer.
    AV_LOG(kWarn, "{}; the server runs without its AdminServer (admin.serverPort, admin.enableServer=false)", error);
    return;
  }
  AV_LOG(kInfo, "Started AdminServer on address {}, port {} and command URL {}", opts_.admin.http.address, http->port(),
         opts_.admin.http.command_url);
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
