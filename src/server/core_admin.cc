// Four-letter words: the core takes a snapshot of its own state and renders
// the answer; the connection is closed once it is written (as ZooKeeper).
#include <sys/resource.h>

#include <filesystem>

#include "admin/environment.h"
#include "admin/four_letter.h"
#include "server/core_state.h"

namespace aviary::server {

namespace {
int64_t OpenFdCount() {
  std::error_code ec;
  int64_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}
int64_t MaxFdCount() {
  rlimit rl{};
  return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? static_cast<int64_t>(rl.rlim_cur) : -1;
}
// Bytes of the files in <dir>/version-2 whose names start with `prefix`.
int64_t FilesSize(const std::string& dir, std::string_view prefix) {
  std::error_code ec;
  int64_t total = 0;
  for (auto it = std::filesystem::directory_iterator(dir + "/version-2", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) != 0) continue;
    std::error_code size_ec;
    auto size = it->file_size(size_ec);
    if (!size_ec) total += static_cast<int64_t>(size);
  }
  return total;
}

std::string Absolute(const std::string& p) {
  if (p.empty()) return p;
  std::error_code ec;
  auto abs = std::filesystem::absolute(p, ec);
  return ec ? p : abs.lexically_normal().string();
}
}  // namespace

admin::ServerSnapshot Core::Snapshot(net::ConnId asking) const {
  static const std::string kVersion = admin::FullVersion();
  const config::ServerConfig& cfg = opts_.config;
  admin::ServerSnapshot s;
  s.full_version = kVersion;
  s.read_only = committer_->ReadOnly();
  s.zxid = applied_zxid_;
  // ZooKeeper's node map holds the root twice ("" and "/"); its counts do too.
  s.node_count = static_cast<int64_t>(tree_.NodeCount()) + 1;
  s.watch_count = static_cast<int64_t>(watches_.watch_count());
  s.ephemerals_count = static_cast<int64_t>(tree_.EphemeralCount());
  s.approximate_data_size = tree_.ApproximateDataSize();
  s.global_sessions = static_cast<int64_t>(sessions_.size());
  s.latency_min_ms = latency_min_us_ < 0 ? 0 : latency_min_us_ / 1000;
  s.latency_avg_ms = latency_count_ ? static_cast<double>(latency_total_us_) / 1000.0 / latency_count_ : 0;
  s.latency_max_ms = latency_max_us_ / 1000;
  s.packets_received = packets_received_;
  s.packets_sent = packets_sent_;
  int64_t outstanding = 0;
  for (const auto& [id, st] : session_state_) outstanding += static_cast<int64_t>(st->queue.size());
  s.outstanding_requests = outstanding;
  s.uptime_ms = SteadyNowMs() - start_ms_;
  s.alive_connections = static_cast<int64_t>(conns_.size());
  int64_t wall = WallNowMs();
  int64_t steady = SteadyNowMs();
  for (const auto& [id, c] : conns_) {
    admin::ConnectionInfo ci;
    if (id == asking) ci.interest_ops = 0;  // as ZooKeeper shows the 4lw connection
    ci.remote_ip = c->ip;
    ci.remote_port = static_cast<uint16_t>(std::stoi(c->peer.substr(c->peer.rfind(':') + 1)));
    ci.received = c->received;
    ci.sent = c->sent;
    ci.session_id = c->session;
    ci.established_ms = wall - (steady - c->opened_ms);
    ci.last_latency_ms = c->last_latency_us / 1000;
    if (c->session != 0) {
      auto st = session_state_.find(c->session);
      if (st != session_state_.end()) ci.queued = static_cast<int64_t>(st->second->queue.size());
      if (const session::Session* ss = sessions_.Find(c->session)) ci.session_timeout_ms = ss->timeout_ms;
    }
    s.connections.push_back(std::move(ci));
  }
  s.open_fd_count = OpenFdCount();
  s.max_fd_count = MaxFdCount();
  s.client_port = cfg.client_port;
  s.data_dir = Absolute(cfg.data_dir);
  s.data_log_dir = Absolute(cfg.data_log_dir.empty() ? cfg.data_dir : cfg.data_log_dir);
  s.data_dir_size = FilesSize(s.data_dir, "snapshot.");
  s.log_dir_size = FilesSize(s.data_log_dir, "log.");
  s.tick_time_ms = cfg.tick_time_ms;
  s.max_client_cnxns = cfg.max_client_cnxns;
  s.min_session_timeout_ms = cfg.min_session_timeout_ms;
  s.max_session_timeout_ms = cfg.max_session_timeout_ms;
  s.client_port_listen_backlog = cfg.client_port_listen_backlog;
  s.server_id = cfg.server_id;
  s.environment = admin::BuildEnvironment(kVersion);
  return s;
}

void Core::OnFourLetter(const CoreEvent& ev) {
  const config::FourLetterWhitelist& wl = opts_.config.four_letter_whitelist;
  if ((ev.text == "wchp" || ev.text == "wchc") && wl.Allows(ev.text)) {
    auto session_of = [this](int64_t w) -> int64_t {
      auto it = conns_.find(static_cast<net::ConnId>(w));
      return it == conns_.end() ? 0 : it->second->session;
    };
    std::string text = ev.text == "wchp" ? watches_.DumpByPath(session_of) : watches_.DumpBySession(session_of);
    out_.push_back(net::ConnectionServer::Out{ev.conn, text + "\n", true});
    return;
  }
  admin::ServerSnapshot snap = Snapshot(ev.conn);
  std::string text = admin::RenderFourLetter(ev.text, snap, wl);
  out_.push_back(net::ConnectionServer::Out{ev.conn, std::move(text), true});
}

}  // namespace aviary::server
