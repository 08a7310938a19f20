// Four-letter words: the core renders the answer from a snapshot of its own
// state holding only the parts the asked word reads (admin::PartsFor); the
// connection is closed once it is written (as ZooKeeper). A refused word
// costs nothing beyond its fixed reply; the parts that need system calls
// come from the AdminProbe's once-a-second cache.
#include <algorithm>
#include <filesystem>

#include "admin/environment.h"
#include "admin/four_letter.h"
#include "metrics/server_metrics.h"
#include "server/core_state.h"

namespace aviary::server {

namespace {
std::string Absolute(const std::string& p) {
  if (p.empty()) return p;
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return ec ? p : abs.lexically_normal().string();
}

const std::string& Version() {
  static const std::string kVersion = admin::FullVersion();
  return kVersion;
}
}  // namespace

AdminProbe& Core::Probe() {
  if (!admin_probe_) {
    const config::ServerConfig& cfg = opts_.config;
    admin_probe_ = std::make_unique<AdminProbe>(
        Absolute(cfg.data_dir), Absolute(cfg.data_log_dir.empty() ? cfg.data_dir : cfg.data_log_dir), Version());
  }
  return *admin_probe_;
}

void Core::FillStats(admin::ServerSnapshot& s) const {
  s.zxid = std::max(s.zxid, applied_zxid_);  // an ensemble leader's hook may have set its epoch's first
  // ZooKeeper's node map holds the root twice ("" and "/"); its counts do too.
  s.node_count = static_cast<int64_t>(tree_.NodeCount()) + 1;
  s.watch_count = static_cast<int64_t>(watches_.watch_count());
  s.ephemerals_count = static_cast<int64_t>(tree_.EphemeralCount());
  s.approximate_data_size = tree_.ApproximateDataSize();
  s.local_sessions = static_cast<int64_t>(local_sessions_.size());
  s.global_sessions = static_cast<int64_t>(sessions_.size()) - s.local_sessions;
  s.latency_min_ms = latency_min_us_ < 0 ? 0 : latency_min_us_ / 1000;
  s.latency_avg_ms = latency_count_ ? static_cast<double>(latency_total_us_) / 1000.0 / latency_count_ : 0;
  s.latency_max_ms = latency_max_us_ / 1000;
  s.packets_received = packets_received_;
  s.packets_sent = packets_sent_;
  int64_t outstanding = 0;
  for (const auto& [id, st] : session_state_) outstanding += static_cast<int64_t>(st.queue.size());
  s.outstanding_requests = outstanding;
  s.uptime_ms = clock_->SteadyMs() - start_ms_;
  s.alive_connections = static_cast<int64_t>(conns_.size());
  s.auth_failed_count = metrics::Server().auth_failed.Get();
  // Ensemble: txns applied with an outcome other than the leader's (txn/state_machine.h).
  if (role_.load(std::memory_order_relaxed) != ServingRole::kStandalone) {
    s.extra_metrics.emplace_back("learner_apply_mismatches", std::to_string(sm_.mismatches()));
  }
}

void Core::FillConnections(admin::ServerSnapshot& s, net::ConnId asking) const {
  s.alive_connections = static_cast<int64_t>(conns_.size());
  int64_t wall = clock_->WallMs();
  int64_t steady = clock_->SteadyMs();
  s.connections.reserve(conns_.size());
  for (const auto& [id, c] : conns_) {
    admin::ConnectionInfo ci;
    if (id == asking) ci.interest_ops = 0;  // as ZooKeeper shows the 4lw connection
    ci.remote_ip = c->ip();
    ci.remote_port = c->port;
    ci.received = c->received;
    ci.sent = c->sent;
    ci.session_id = c->session;
    ci.established_ms = wall - (steady - c->opened_ms);
    ci.last_latency_ms = c->last_latency_us / 1000;
    ci.last_op = std::string(c->last_op);
    ci.last_cxid = c->last_cxid;
    ci.last_zxid = c->last_zxid;
    ci.last_response_ms = c->last_response_ms;
    ci.min_latency_ms = c->lat_min_us < 0 ? 0 : c->lat_min_us / 1000;
    ci.max_latency_ms = c->lat_max_us / 1000;
    ci.avg_latency_ms = c->lat_count ? c->lat_total_us / 1000 / c->lat_count : 0;
    if (c->session != 0) {
      auto st = session_state_.find(c->session);
      if (st != session_state_.end()) ci.queued = static_cast<int64_t>(st->second.queue.size());
      if (const session::Session* ss = sessions_.Find(c->session)) ci.session_timeout_ms = ss->timeout_ms;
    }
    s.connections.push_back(std::move(ci));
  }
}

void Core::FillConfig(admin::ServerSnapshot& s) const {
  const config::ServerConfig& cfg = opts_.config;
  s.client_port = cfg.client_port;
  s.secure_client_port = cfg.secure_client_port_set ? cfg.secure_client_port : -1;
  s.data_dir = Absolute(cfg.data_dir);
  s.data_log_dir = Absolute(cfg.data_log_dir.empty() ? cfg.data_dir : cfg.data_log_dir);
  s.tick_time_ms = cfg.tick_time_ms;
  s.max_client_cnxns = cfg.max_client_cnxns;
  s.min_session_timeout_ms = cfg.min_session_timeout_ms;
  s.max_session_timeout_ms = cfg.max_session_timeout_ms;
  s.client_port_listen_backlog = cfg.client_port_listen_backlog;
  s.server_id = cfg.server_id;
  s.ensemble = ensemble_conf_;
}

admin::ServerSnapshot Core::Snapshot(net::ConnId asking, unsigned parts, int64_t now_ms) {
  admin::ServerSnapshot s;
  s.full_version = Version();
  s.read_only = committer_->ReadOnly();
  if (status_hook_) status_hook_(s);
  if (role_.load(std::memory_order_relaxed) == ServingRole::kNotServing) s.serving = false;
  if (role_.load(std::memory_order_relaxed) == ServingRole::kReadOnly) {
    // ZooKeeper's ReadOnlyZooKeeperServer: running, state "read-only".
    s.serving = true;
    s.read_only = true;
    s.server_state = "read-only";
  }
  if (parts & admin::kPartStats) FillStats(s);
  if (parts & admin::kPartConnections) FillConnections(s, asking);
  if (parts & admin::kPartConfig) FillConfig(s);
  if (parts & admin::kPartDirSizes) {
    const AdminProbe::DirSizes& d = Probe().Sizes(now_ms);
    s.data_dir_size = d.data_bytes;
    s.log_dir_size = d.log_bytes;
  }
  if (parts & admin::kPartFds) {
    const AdminProbe::Fds& f = Probe().FdCounts(now_ms);
    s.open_fd_count = f.open;
    s.max_fd_count = f.max;
  }
  if (parts & admin::kPartEnvironment) s.environment = Probe().Env(now_ms);
  if (parts & admin::kPartMetrics) s.registry_metrics = metrics::Default().MntrSamples();
  if (parts & admin::kPartDump) FillDump(s);
  if (parts & admin::kPartDigestLog) s.digest_log = DigestHistory();
  s.trace_mask = trace_mask_;
  return s;  // kPartWatchSummary: wchs is answered by the watch manager itself (OnFourLetter)
}

// ZooKeeper checks the whitelist, then whether the server is running
// (wchs / wchc / wchp and most words print the "not currently serving"
// line when it is not), then acts and prints. `ev.text` is the word (and
// for stmk its 8-byte mask).
void Core::OnFourLetter(const CoreEvent& ev, int64_t now_ms) {
  const config::FourLetterWhitelist& wl = opts_.config.four_letter_whitelist;
  const std::string_view word = std::string_view(ev.text).substr(0, 4);
  const bool watch_word = word == "wchp" || word == "wchc" || word == "wchs";
  // ZooKeeper counts the word as a packet received, by the server and the connection.
  ++packets_received_;
  if (auto it = conns_.find(ev.conn); it != conns_.end()) ++it->second->received;
  // Whitelist first: a refused word needs no part of the snapshot.
  unsigned parts = admin::PartsFor(word, wl);
  admin::ServerSnapshot snap = Snapshot(ev.conn, parts, now_ms);
  if (!wl.Allows(word)) {
    out_.push_back(net::ConnectionServer::Out{ev.conn, admin::RenderFourLetter(word, snap, wl), true});
    return;
  }
  if (watch_word && !snap.serving) {
    out_.push_back(net::ConnectionServer::Out{ev.conn, std::string(admin::kNotServingLine) + "\n", true});
    return;
  }
  if (watch_word) {
    auto session_of = [this](int64_t w) -> int64_t {
      auto it = conns_.find(static_cast<net::ConnId>(w));
      return it == conns_.end() ? 0 : it->second->session;
    };
    std::string text = word == "wchp"   ? watches_.DumpByPath(session_of)
                       : word == "wchc" ? watches_.DumpBySession(session_of)
                                        : watches_.DumpSummary();
    out_.push_back(net::ConnectionServer::Out{ev.conn, text + "\n", true});
    return;
  }
  if (!RunFourLetterAction(word, ev, snap)) {
    out_.push_back(net::ConnectionServer::Out{ev.conn, std::string(), true});  // just closed
    return;
  }
  snap.trace_mask = trace_mask_;
  out_.push_back(net::ConnectionServer::Out{ev.conn, admin::RenderFourLetter(word, snap, wl), true});
}

}  // namespace aviary::server
