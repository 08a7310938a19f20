// The four-letter words that show or change more than counters: dump's
// sections (the session tracker as a leader / standalone or a learner
// prints it, the ephemerals, the connection expiry queue), crst / srst /
// stmk's effects, and the digest log behind `hash`. Core thread.
#include <algorithm>
#include <cstdlib>
#include <map>

#include "server/core_state.h"

namespace aviary::server {

namespace {

// NIOServerCnxnFactory's connection expiry queue: 10 s buckets
// (zookeeper.nio.sessionlessCnxnTimeout), on the steady clock.
constexpr int64_t kCnxnBucketMs = 10000;

int64_t NextCnxnBucket(int64_t steady_ms) { return (steady_ms / kCnxnBucketMs + 1) * kCnxnBucketMs; }

uint16_t PortOf(const std::string& peer) {
  size_t colon = peer.rfind(':');
  if (colon == std::string::npos) return 0;
  return static_cast<uint16_t>(std::strtoul(peer.c_str() + colon + 1, nullptr, 10));
}

}  // namespace

void Core::FillDump(admin::ServerSnapshot& s) const {
  const int64_t wall = clock_->WallMs();
  const int64_t steady = clock_->SteadyMs();
  auto to_wall = [&](int64_t steady_ms) { return wall - (steady - steady_ms); };
  admin::DumpInfo& d = s.dump;
  const ServingRole role = role_.load(std::memory_order_relaxed);
  d.learner = role == ServingRole::kFollower || role == ServingRole::kReadOnly;
  d.local_sessions_enabled = opts_.config.local_sessions_enabled && role != ServingRole::kStandalone;
  for (auto& [t, ids] : sessions_.Buckets()) {
    admin::SessionBucket local{to_wall(t), {}};
    admin::SessionBucket global{to_wall(t), {}};
    for (int64_t id : ids) (IsLocalHere(id) ? local : global).session_ids.push_back(id);
    if (d.local_sessions_enabled && !local.session_ids.empty()) d.local_buckets.push_back(std::move(local));
    if (!d.learner && !global.session_ids.empty()) d.global_buckets.push_back(std::move(global));
  }
  if (d.learner) {
    for (const auto& [id, timeout] : sm_.sessions()) d.global_sessions.push_back({id, timeout});
    std::sort(d.global_sessions.begin(), d.global_sessions.end(),
              [](const auto& a, const auto& b) { return a.session_id < b.session_id; });
  }
  for (int64_t id : tree_.SessionsWithEphemerals()) {
    std::vector<std::string> paths = tree_.EphemeralsOf(id);
    std::sort(paths.begin(), paths.end());
    d.ephemerals.push_back({id, std::move(paths)});
  }
  std::map<int64_t, admin::ConnectionBucket> buckets;
  for (const auto& [id, c] : conns_) {
    const session::Session* ss = c->session != 0 ? sessions_.Find(c->session) : nullptr;
    // A session's connection expires with it (touchCnxn: its timeout);
    // one without a session 10 s after it opened.
    int64_t at = NextCnxnBucket(ss != nullptr ? ss->expiry_ms - sessions_.tick_ms() : c->opened_ms + kCnxnBucketMs);
    admin::ConnectionBucket& b = buckets[at];
    b.expire_ms = to_wall(at);
    b.connections.push_back({c->ip(), PortOf(c->peer()), c->session});
  }
  for (auto& [at, b] : buckets) d.connection_buckets.push_back(std::move(b));
}

// ServerCnxn.resetStats for every connection: counts and latencies.
void Core::ResetConnectionStats() {
  for (auto& [id, c] : conns_) {
    c->received = 0;
    c->sent = 0;
    c->last_latency_us = 0;
    c->last_op = "NA";
    c->last_cxid = -1;
    c->last_zxid = -1;
    c->last_response_ms = 0;
    c->lat_min_us = -1;
    c->lat_max_us = 0;
    c->lat_total_us = 0;
    c->lat_count = 0;
  }
}

void Core::NoteRequestOp(Conn& c, const proto::RequestHeader& h) {
  constexpr size_t kMaxOpsInFlight = 4096;
  if (c.ops_in_flight.size() < kMaxOpsInFlight) c.ops_in_flight.Add(h.xid, h.type);
}

// ServerCnxn.updateStatsForResponse. latency_us < 0: the connect's reply
// (ZooKeeper's "SESS"), no latency counted.
void Core::NoteReplyStats(Conn& c, const proto::ReplyHeader& h, int64_t latency_us, int64_t now_ms) const {
  if (latency_us < 0) {
    c.last_op = admin::LastOpName(-10).data();
  } else {
    int32_t type = 0;
    if (c.ops_in_flight.Take(h.xid, &type)) c.last_op = admin::LastOpName(type).data();
    c.last_latency_us = latency_us;
    // Kept in 32 bits (~35 minutes; longer clamps): the Conn stays within one allocation.
    const auto lat32 = static_cast<int32_t>(std::min<int64_t>(latency_us, INT32_MAX));
    if (c.lat_min_us < 0 || lat32 < c.lat_min_us) c.lat_min_us = lat32;
    c.lat_max_us = std::max(c.lat_max_us, lat32);
    c.lat_total_us += latency_us;
    ++c.lat_count;
  }
  if (h.xid >= 0) c.last_cxid = h.xid;
  c.last_zxid = h.zxid;
  c.last_response_ms = now_ms >= 0 ? now_ms : clock_->SteadyMs();  // ZooKeeper prints its elapsed-time clock here
}

// ServerStats.reset: latency, packet counts, then what else registered
// (ZooKeeper also resets its metrics and a leader's proposal sizes).
void Core::ResetServerStats() {
  latency_min_us_ = -1;
  latency_max_us_ = 0;
  latency_total_us_ = 0;
  latency_count_ = 0;
  packets_received_ = 0;
  packets_sent_ = 0;
  for (const auto& hook : stat_reset_hooks_) hook();
}

// crst / srst act only on a serving server (as ZooKeeper's commands check
// isZKServerRunning); stmk always stores its mask. False when the word
// cannot be answered (stmk without its 8 bytes: ZooKeeper's read fails and
// it closes the connection).
bool Core::RunFourLetterAction(std::string_view word, const CoreEvent& ev, const admin::ServerSnapshot& s) {
  if (word == "stmk") {
    std::optional<int64_t> mask = admin::ParseSetTraceMask(ev.text);
    if (!mask) return false;
    trace_mask_ = *mask;
    return true;
  }
  if (!s.serving) return true;
  if (word == "crst") ResetConnectionStats();
  if (word == "srst") ResetServerStats();
  return true;
}

// Before the core thread runs (no entries yet): Server's constructor, then
// an ensemble member's QuorumPeer::Start with its checker.
void Core::InstallDigestLog(zkformat::DigestChecker* checker) {
  sm_.SetObserver(nullptr);
  digest_log_.reset();
  if (checker != nullptr) {
    own_digest_.reset();
  } else if (opts_.config.digest_enabled) {
    if (!own_digest_) own_digest_ = std::make_unique<zkformat::DigestChecker>();
    checker = own_digest_.get();
  }
  digest_log_ = std::make_unique<DigestLog>(checker);
  sm_.SetObserver(digest_log_.get());
}

std::vector<admin::ZxidDigest> Core::DigestHistory() const {
  return digest_log_ ? digest_log_->Entries() : std::vector<admin::ZxidDigest>{};
}

}  // namespace aviary::server
