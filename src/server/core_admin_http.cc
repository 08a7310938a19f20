// The AdminServer's commands on the core thread (src/adminserver renders
// them): serving and authentication checks as ZooKeeper 3.9's
// Commands.runCommand, the data each command shows (the four-letter words'
// snapshot parts plus adminserver::AdminExtras), the reset commands, the
// snapshot a backup streams and the state a restore installs.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "admin/four_letter.h"
#include "adminserver/command_result.h"
#include "base/log.h"
#include "server/core_state.h"
#include "storage/layout.h"
#include "txn/acl.h"
#include "zkformat/files.h"

namespace aviary::server {
namespace {

using adminserver::CommandId;
using adminserver::CommandResult;

unsigned AdminParts(CommandId id) {
  switch (id) {
    case CommandId::kConfiguration:
      return admin::kPartConfig;
    case CommandId::kConnections:
      return admin::kPartConnections;
    case CommandId::kDirs:
      return admin::kPartDirSizes;
    case CommandId::kEnvironment:
      return admin::kPartEnvironment;
    case CommandId::kMonitor:
      return admin::kPartStats | admin::kPartConfig | admin::kPartDirSizes | admin::kPartFds | admin::kPartMetrics;
    case CommandId::kServerStats:
      return admin::kPartStats | admin::kPartDirSizes;
    case CommandId::kStats:
      return admin::kPartStats | admin::kPartDirSizes | admin::kPartConnections;
    case CommandId::kZabState:
      return admin::kPartStats;
    default:
      return admin::kPartNone;
  }
}

void Fail(CommandResult* r, int status, std::string error) {
  r->status = status;
  r->error = std::move(error);
}

// "0x<hex sid>\n\t<path>\n..." (wchc) or "<path>\n\t0x<hex sid>\n..." (wchp)
// into (key, values) pairs; ZooKeeper paths hold no control characters.
std::vector<std::pair<std::string, std::vector<std::string>>> ParseDump(const std::string& text) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (line[0] == '\t') {
      if (!out.empty()) out.back().second.push_back(line.substr(1));
    } else {
      out.emplace_back(line, std::vector<std::string>{});
    }
  }
  return out;
}

int64_t SessionIdOf(const std::string& hex) { return static_cast<int64_t>(std::stoull(hex, nullptr, 16)); }

}  // namespace

// Commands.handleAuthentication + handleAuthorization: the Authorization
// header's "scheme credentials" through the server's providers (digest
// with the super digest, ip from the peer address), then every bit of the
// command's permission on its path's ACL.
bool Core::AdminAuthorized(const adminserver::AdminRequest& req, CommandResult* r) const {
  const adminserver::CommandSpec& spec = *req.spec;
  if (req.authorization.empty()) {
    Fail(r, 401, "Auth info is missing for the command");
    return false;
  }
  std::string scheme, credentials;
  txn::SessionCtx ctx;
  if (adminserver::SplitAuthInfo(req.authorization, &scheme, &credentials)) {
    if (scheme == "digest" && !credentials.empty()) {
      txn::AuthOutcome out = txn::Authenticate(scheme, credentials, opts_.super_digest);
      ctx.ids = out.ids;
      ctx.is_super = out.is_super;
    } else if (scheme == "ip") {
      ctx.ids.push_back(proto::Id{"ip", req.remote_ip});
    } else if (scheme == "x509" && !req.x509_subject.empty() && txn::X509SchemeEnabled()) {
      // X509AuthenticationProvider over HTTPS: the verified client
      // certificate's subject, also ("super", dn) for the superUser.
      if (req.x509_subject == opts_.config.x509_super_user) {
        ctx.ids.push_back(proto::Id{"super", req.x509_subject});
      }
      ctx.ids.push_back(proto::Id{"x509", req.x509_subject});
    }
  }
  if (ctx.ids.empty()) {  // unknown scheme, x509 without a client certificate, malformed header
    Fail(r, 401, "Not authenticated");
    return false;
  }
  const tree::Node* node = tree_.Find(spec.auth_path);
  if (node == nullptr) {
    Fail(r, 500, "Error occurred during auth");
    return false;
  }
  const proto::AclList& acl = tree_.AclOf(*node);
  for (int32_t bit = 1; bit <= spec.auth_perm; bit <<= 1) {
    if ((spec.auth_perm & bit) != 0 && !txn::CheckPermission(acl, bit, ctx)) {
      Fail(r, 403, "Not authorized");
      return false;
    }
  }
  return true;
}

void Core::FillAdminExtras(CommandId id, adminserver::AdminExtras* x) const {
  auto session_of = [this](int64_t w) -> int64_t {
    auto it = conns_.find(static_cast<net::ConnId>(w));
    return it == conns_.end() ? 0 : it->second->session;
  };
  if (id == CommandId::kDump) {
    x->expiry_to_sessions = sessions_.Buckets();
    for (int64_t sid : tree_.SessionsWithEphemerals()) x->session_ephemerals.emplace_back(sid, tree_.EphemeralsOf(sid));
  } else if (id == CommandId::kWatches) {
    for (auto& [sid, paths] : ParseDump(watches_.DumpBySession(session_of))) {
      x->watches_by_session.emplace_back(SessionIdOf(sid), std::move(paths));
    }
  } else if (id == CommandId::kWatchesByPath) {
    for (auto& [path, sids] : ParseDump(watches_.DumpByPath(session_of))) {
      std::vector<int64_t> ids;
      for (const std::string& s : sids) ids.push_back(SessionIdOf(s));
      x->watches_by_path.emplace_back(path, std::move(ids));
    }
  } else if (id == CommandId::kHash) {
    for (const admin::ZxidDigest& d : DigestHistory()) x->digests.push_back({d.zxid, d.digest, 2});
  } else if (id == CommandId::kGetTraceMask) {
    x->trace_mask = trace_mask_;
  } else if (id == CommandId::kLastSnapshot) {
    const std::vector<storage::FileEntry> snaps = storage::ListSnapshots(opts_.config.data_dir);
    if (!snaps.empty()) {
      struct stat st {};
      x->last_snapshot_zxid = snaps.back().zxid;
      if (::stat(snaps.back().path.c_str(), &st) == 0) x->last_snapshot_time_s = st.st_mtime;
    }
  }
}

// SnapshotCommand: ZooKeeper's snapshot file format (zkformat/files.h) of
// the state as applied now, written to a file the HTTP thread streams and
// deletes. The core is busy while it is written (bounded by the tree).
void Core::AdminSnapshot(CommandResult* r) {
  std::error_code ec;
  std::string base =
      opts_.config.data_dir.empty() ? std::filesystem::temp_directory_path(ec).string() : opts_.config.data_dir;
  const std::string dir = base + "/admin-snapshot." + std::to_string(::getpid());
  std::vector<storage::SessionRecord> live;
  for (const auto& [id, timeout_ms] : sm_.sessions()) live.push_back(storage::SessionRecord{id, timeout_ms});
  std::sort(live.begin(), live.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  std::string error;
  if (!zkformat::WriteZkSnapshotFile(dir, applied_zxid_, tree_, live, &error)) {
    AV_LOG(kWarn, "admin snapshot failed: {}", error);
    return Fail(r, 500, "");
  }
  const std::string path = dir + "/" + zkformat::ZkSnapshotName(applied_zxid_);
  struct stat st {};
  const int64_t size = ::stat(path.c_str(), &st) == 0 ? st.st_size : 0;
  r->headers.emplace_back("last_zxid", fmt::format("0x{:x}", applied_zxid_));
  r->headers.emplace_back("snapshot_size", std::to_string(size));
  r->stream_file = path;
  r->error.reset();
}

CommandResult Core::RunAdminCommand(const adminserver::AdminRequest& req, int64_t now_ms, const AdminGate& gate) {
  const adminserver::CommandSpec& spec = *req.spec;
  CommandResult r;
  r.snap = Snapshot(0, AdminParts(spec.id), now_ms);
  if (spec.server_required && !r.snap.serving) {
    Fail(&r, 200, "This ZooKeeper instance is not currently serving requests");
    return r;
  }
  if (spec.auth_perm != 0 && !AdminAuthorized(req, &r)) return r;
  if (const int status = gate ? gate(spec.id, now_ms) : 0; status != 0) {
    r.status = status;
    return r;
  }
  switch (spec.id) {
    case CommandId::kWatchSummary: {
      // The wchs figures (the data-watch table, as ZooKeeper 3.8).
      long long conns = 0, paths = 0, total = 0;
      const std::string text = watches_.DumpSummary();
      if (std::sscanf(text.c_str(), "%lld connections watching %lld paths\nTotal watches:%lld", &conns, &paths,
                      &total) == 3) {
        r.snap.wchs_connections = conns;
        r.snap.wchs_paths = paths;
        r.snap.wchs_total = total;
      }
      break;
    }
    case CommandId::kConnectionStatReset:
      ResetConnectionStats();
      break;
    case CommandId::kStatReset:
      ResetServerStats();
      break;
    case CommandId::kSnapshot:
      AdminSnapshot(&r);
      break;
    case CommandId::kRestore:
      break;  // checked: the server parses the body, then RestoreFromAdmin
    default:
      FillAdminExtras(spec.id, &r.extras);
      break;
  }
  return r;
}

// RestoreCommand (standalone): the state becomes the snapshot's. Every
// client connection is closed first (their sessions are those of the
// snapshot now). The zxid does not go back: the restored state is installed
// at the last applied zxid so the log continues without a gap, and a
// snapshot of it is started at once (a restart before it is written comes
// back with the state before the restore).
CommandResult Core::RestoreFromAdmin(tree::DataTree& tree, const std::vector<storage::SessionRecord>& sessions,
                                     int64_t now_ms) {
  CommandResult r;
  if (role_.load(std::memory_order_relaxed) != ServingRole::kStandalone) {
    Fail(&r, 500, "restore is only supported on a standalone server");
    return r;
  }
  if (sequencer_->last_proposed() != applied_zxid_ || !creating_.empty() || snapshot_ != nullptr) {
    Fail(&r, 503, "writes or a snapshot are in progress; retry");
    return r;
  }
  std::vector<net::ConnId> ids;
  for (const auto& [id, c] : conns_) ids.push_back(id);
  for (net::ConnId id : ids) {
    outbox_->CloseNow(id);
    OnClosed(id);
  }
  const int64_t zxid = applied_zxid_;
  InstallSnapshot(tree, sessions, zxid, now_ms);
  RequestSnapshot();
  AV_LOG(kInfo, "admin restore: installed {} nodes and {} sessions at zxid {:#x}", tree_.NodeCount(), sessions.size(),
         zxid);
  r.extras.restored_zxid = zxid;
  return r;
}

}  // namespace aviary::server
