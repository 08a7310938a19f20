#include "world.h"

#include <fmt/core.h>

#include <algorithm>

namespace aviary::sim {

using zab::Outgoing;
using zab::StorageOp;

const char* PacketName(quorum::PacketType t) {
  static const char* const kNames[] = {"?",         "REQUEST",      "PROPOSAL",   "ACK",      "COMMIT",
                                       "PING",      "REVALIDATE",   "SYNC",       "INFORM",   "COMMITANDACTIVATE",
                                       "NEWLEADER", "FOLLOWERINFO", "UPTODATE",   "DIFF",     "TRUNC",
                                       "SNAP",      "OBSERVERINFO", "LEADERINFO", "ACKEPOCH", "INFORMANDACTIVATE"};
  int i = static_cast<int>(t);
  return i >= 0 && i < 20 ? kNames[i] : "?";
}

struct World::Server {
  ServerId id = 0;
  bool observer = false;
  bool up = false;
  uint64_t incarnation = 0;
  std::unique_ptr<zab::Node> node;
  // Disk.
  int64_t accepted = 0, current = 0;
  std::vector<std::pair<Zxid, std::string>> log;
  size_t synced = 0;
  Zxid log_base = 0;
  uint64_t disk_gen = 0;
  Zxid snap_zxid = 0;
  std::map<std::string, std::string> snap_kv;
  int64_t fsync_free_ms = 0;
  // Memory.
  std::map<std::string, std::string> kv;
  Zxid applied = 0;   // reflected in kv
  Zxid reported = 0;  // applied as committed (the checker saw it); < applied only after a log replay at start
  struct Waiter {
    int client;
    std::shared_ptr<bool> finished;
    Done done;
  };
  std::map<int64_t, Waiter> waiting;  // write id -> client
};

struct World::Conn {
  uint64_t id = 0;
  ServerId learner = 0, leader = 0;
  uint64_t inc_learner = 0, inc_leader = 0;
  bool dead = false;
  ServerId closed_by = 0;
  int64_t last_ms[2] = {0, 0};  // FIFO per direction: [0] learner->leader
};

World::World(const Options& options) : options_(options), rng_(options.seed) {
  std::vector<zab::Member> members;
  for (int i = 1; i <= options.voters + options.observers; ++i) members.push_back({i, i > options.voters});
  for (const zab::Member& m : members) {
    auto s = std::make_unique<Server>();
    s->id = m.id;
    s->observer = m.observer;
    servers_[m.id] = std::move(s);
    group_[m.id] = 0;
  }
}

World::~World() = default;

std::vector<ServerId> World::ids() const {
  std::vector<ServerId> out;
  for (const auto& [id, s] : servers_) out.push_back(id);
  return out;
}

World::Server& World::S(ServerId id) { return *servers_.at(id); }
bool World::up(ServerId id) const { return servers_.at(id)->up; }
const zab::Node* World::node(ServerId id) const { return servers_.at(id)->node.get(); }
bool World::Cut(ServerId a, ServerId b) const { return group_.at(a) != group_.at(b); }

void World::At(int64_t t_ms, std::function<void()> fn) {
  queue_.push({std::max(t_ms, now_ms_), seq_++, std::move(fn)});
}

void World::Trace(const std::string& line) {
  if (trace_) trace_(fmt::format("{:>6} {}", now_ms_, line));
}

void World::RunUntil(int64_t t_ms) {
  while (!queue_.empty() && queue_.top().at <= t_ms) {
    if (events_ >= options_.max_events) {
      checker_.Fail(fmt::format("event budget of {} exceeded at {} ms", options_.max_events, now_ms_));
      queue_ = {};
      break;
    }
    Event e = queue_.top();
    queue_.pop();
    now_ms_ = e.at;
    ++events_;
    e.fn();
  }
  now_ms_ = std::max(now_ms_, t_ms);
}

void World::RunFor(int64_t ms) { RunUntil(now_ms_ + ms); }

void World::Start(ServerId id) {
  Server& s = S(id);
  if (s.up) return;
  s.up = true;
  ++s.incarnation;
  zab::Config cfg;
  cfg.self = id;
  for (const auto& [sid, other] : servers_) cfg.members.push_back({sid, other->observer});
  cfg.tick_ms = options_.tick_ms;
  cfg.init_limit = options_.init_limit;
  cfg.sync_limit = options_.sync_limit;
  cfg.max_notification_interval_ms = 1000;
  cfg.learner_connect_retry_ms = options_.tick_ms / 2;
  cfg.max_log_index = options_.max_log_index;
  zab::Bootstrap boot;
  boot.accepted_epoch = s.accepted;
  boot.current_epoch = s.current;
  boot.applied_zxid = s.snap_zxid;
  boot.log_base = s.log_base;
  for (const auto& e : s.log) boot.logged.push_back(e.first);
  s.reported = s.snap_zxid;
  checker_.OnReset(id, s.snap_zxid);
  Reload(s, options_.replay_log_at_start ? (s.log.empty() ? s.log_base : s.log.back().first) : s.snap_zxid);
  s.node = std::make_unique<zab::Node>(cfg, boot);
  Trace(fmt::format("{} start {}{}", id, s.node->Describe(),
                    s.applied > s.reported ? fmt::format(" (log replayed to {:#x})", s.applied) : ""));
  s.node->Start(now_ms_);
  Pump(id);
  uint64_t inc = s.incarnation;
  At(now_ms_ + static_cast<int64_t>(Rand(options_.step_ms)) + 1, [this, id, inc] { ScheduleTick(id, inc); });
}

// The state from the snapshot plus the logged txns through `through`.
void World::Reload(Server& s, Zxid through) {
  s.kv = s.snap_kv;
  s.applied = s.snap_zxid;
  for (const auto& [z, bytes] : s.log) {
    if (z <= s.snap_zxid || z > through) continue;
    Txn t;
    if (DecodeTxn(bytes, &t)) s.kv[t.key] = t.value;
    s.applied = z;
  }
}

void World::ScheduleTick(ServerId id, uint64_t incarnation) {
  Server& s = S(id);
  if (!s.up || s.incarnation != incarnation) return;
  s.node->Tick(now_ms_);
  Pump(id);
  At(now_ms_ + options_.step_ms, [this, id, incarnation] { ScheduleTick(id, incarnation); });
}

void World::Crash(ServerId id) {
  Server& s = S(id);
  if (!s.up) return;
  Trace(fmt::format("{} CRASH (log {} of {} durable)", id, s.synced, s.log.size()));
  s.up = false;
  ++s.incarnation;
  s.node.reset();
  s.log.resize(s.synced);
  s.waiting.clear();
  for (auto& [cid, c] : conns_) {
    if (!c->dead && (c->learner == id || c->leader == id)) BreakConn(cid, Rand(2) == 0);
  }
  // Its election connections close; half of its peers notice at once.
  for (const auto& [other, o] : servers_) {
    if (options_.channel_reports && other != id && o->up && !Cut(id, other) && Rand(2) == 0) {
      ReportChannel(other, id, false, RandRange(options_.net_min_ms, options_.net_max_ms));
    }
  }
}

void World::Partition(const std::vector<std::set<ServerId>>& groups) {
  for (auto& [id, g] : group_) g = 0;
  int n = 1;
  for (const auto& group : groups) {
    for (ServerId id : group) group_[id] = n;
    ++n;
  }
  std::string text;
  for (const auto& group : groups) {
    text += " {";
    for (ServerId id : group) text += fmt::format(" {}", id);
    text += " }";
  }
  Trace("partition" + text);
}

void World::Heal() {
  for (auto& [id, g] : group_) g = 0;
  Trace("heal");
}

void World::Compact(ServerId id) {
  Server& s = S(id);
  // Only committed state is snapshotted (a replayed tail may not be).
  if (!s.up || s.applied <= s.log_base || s.applied != s.reported) return;
  s.snap_zxid = s.applied;
  s.snap_kv = s.kv;
  size_t drop = 0;
  while (drop < s.log.size() && s.log[drop].first <= s.applied) ++drop;
  s.log.erase(s.log.begin(), s.log.begin() + static_cast<int64_t>(drop));
  s.synced = s.synced > drop ? s.synced - drop : 0;
  s.log_base = s.applied;
  s.node->TrimLog(s.applied);
  Trace(fmt::format("{} compact through {:#x}", id, s.applied));
}

void World::StallDisk(ServerId id, int64_t ms) {
  Server& s = S(id);
  s.fsync_free_ms = std::max(s.fsync_free_ms, now_ms_ + ms);
  Trace(fmt::format("{} disk stalls for {} ms", id, ms));
}

std::string World::SnapshotBytes(const Server& s) const {
  std::string out;
  for (const auto& [k, v] : s.kv) out += k + "=" + v + "\n";
  return out;
}

void World::Pump(ServerId id) {
  Server& s = S(id);
  for (int round = 0; round < 100 && s.up; ++round) {
    zab::Ready r = s.node->TakeReady();
    if (r.empty()) return;
    if (r.accepted_epoch) s.accepted = *r.accepted_epoch;
    if (r.current_epoch) s.current = *r.current_epoch;
    RunStorage(s, r.storage);
    if (r.commit_through) ApplyThrough(s, *r.commit_through);
    if (r.role) Trace(fmt::format("{} role {}", id, s.node->Describe()));
    for (const auto& n : r.notifications) SendNotification(id, n);
    for (const auto& out : r.packets) SendOutgoing(s, out);
    for (uint64_t conn : r.close) CloseConn(conn, id);
    if (r.connect_leader) Connect(id, *r.connect_leader);
    for (const auto& hp : r.to_host) HostPacket(s, hp);
    if (s.node) s.node->Recycle(std::move(r));  // as the server does: the next Ready reuses the buffers
  }
}

void World::RunStorage(Server& s, std::vector<StorageOp>& ops) {
  for (StorageOp& op : ops) {
    switch (op.kind) {
      case StorageOp::Kind::kTruncate: {
        if (op.zxid < s.reported) checker_.Fail(fmt::format("server {} truncated below its applied state", s.id));
        while (!s.log.empty() && s.log.back().first > op.zxid) s.log.pop_back();
        s.synced = std::min(s.synced, s.log.size());
        ++s.disk_gen;
        Trace(fmt::format("{} TRUNC log after {:#x}", s.id, op.zxid));
        if (op.zxid < s.applied) {
          // What the replay at start applied beyond it was never committed.
          Reload(s, op.zxid);
          if (s.applied != op.zxid) checker_.Fail(fmt::format("server {} reloaded to {:#x}", s.id, s.applied));
          Trace(fmt::format("{} state reloaded at {:#x}", s.id, s.applied));
        }
        break;
      }
      case StorageOp::Kind::kInstallSnapshot: {
        s.kv.clear();
        size_t pos = 0;
        while (pos < op.bytes.size()) {
          size_t nl = op.bytes.find('\n', pos);
          std::string line = op.bytes.substr(pos, nl - pos);
          size_t eq = line.find('=');
          s.kv[line.substr(0, eq)] = line.substr(eq + 1);
          pos = nl + 1;
        }
        s.log.clear();
        s.synced = 0;
        s.log_base = s.snap_zxid = s.applied = s.reported = op.zxid;
        s.snap_kv = s.kv;
        ++s.disk_gen;
        checker_.OnReset(s.id, op.zxid);
        Trace(fmt::format("{} SNAP installed at {:#x}", s.id, op.zxid));
        break;
      }
      case StorageOp::Kind::kAppend:
        if (!s.log.empty() && s.log.back().first >= op.zxid) checker_.Fail("append not ascending");
        s.log.push_back({op.zxid, std::move(op.bytes)});
        break;
      case StorageOp::Kind::kFsync: {
        size_t len = s.log.size();
        uint64_t gen = s.disk_gen, inc = s.incarnation, token = op.token;
        ServerId id = s.id;
        int64_t done = std::max(s.fsync_free_ms, now_ms_ + RandRange(options_.fsync_min_ms, options_.fsync_max_ms));
        s.fsync_free_ms = done;
        At(done, [this, id, len, gen, inc, token] {
          Server& t = S(id);
          if (!t.up || t.incarnation != inc) return;
          if (gen == t.disk_gen) t.synced = std::max(t.synced, std::min(len, t.log.size()));
          t.node->OnFsyncDone(token);
          Pump(id);
        });
        break;
      }
    }
  }
}

void World::ApplyThrough(Server& s, Zxid zxid) {
  size_t i = 0;
  while (i < s.log.size() && s.log[i].first <= s.reported) ++i;
  if (s.reported < zxid && s.log_base > s.reported) {
    checker_.Fail(fmt::format("server {} must apply {:#x} but its log starts after {:#x}", s.id, zxid, s.log_base));
  }
  for (; i < s.log.size() && s.log[i].first <= zxid; ++i) {
    const auto& [z, bytes] = s.log[i];
    Txn t;
    const bool decoded = DecodeTxn(bytes, &t);
    if (z > s.applied) {  // else already in kv from the replay at start
      if (decoded) s.kv[t.key] = t.value;
      s.applied = z;
    }
    s.reported = z;
    checker_.OnApply(s.id, z, bytes);
    auto w = s.waiting.find(t.write_id);
    if (w == s.waiting.end()) continue;
    auto waiter = w->second;
    s.waiting.erase(w);
    int64_t id = t.write_id;
    At(now_ms_ + RandRange(options_.net_min_ms, options_.net_max_ms), [this, waiter, id, z] {
      if (*waiter.finished) return;
      *waiter.finished = true;
      checker_.OnWriteAcked(id, now_ms_);
      checker_.NoteClientSeen(waiter.client, z);
      waiter.done(true, z);
    });
  }
  if (s.reported < zxid) checker_.Fail(fmt::format("server {} cannot apply through {:#x}", s.id, zxid));
}

void World::SendNotification(ServerId from, const zab::NotificationOut& n) {
  ServerId to = n.to;
  if (!servers_.count(to)) return;
  if (Cut(from, to) || !S(to).up) {
    // The host's connect is refused (or times out) and reports it; a
    // quarter of the time it never does (a lost SYN, a long timeout).
    if (options_.channel_reports && Rand(4) != 0) {
      ReportChannel(from, to, false, RandRange(options_.connect_ms, 3 * options_.net_max_ms));
    }
    return;
  }
  auto& fifo = fifo_ms_[{from, to}];
  fifo = std::max(fifo, now_ms_ + RandRange(options_.net_min_ms, options_.net_max_ms));
  uint64_t inc = S(to).incarnation;
  auto deliver = [this, from, to, inc, msg = n.n] {
    Server& t = S(to);
    if (!t.up || t.incarnation != inc || Cut(from, to)) return;
    if (options_.trace_notifications) {
      Trace(fmt::format("{}->{} vote {} {} leader={} zxid={:#x} round={} epoch={}", from, to,
                        static_cast<int>(msg.state), "", msg.leader, msg.zxid, msg.election_epoch, msg.peer_epoch));
    }
    t.node->OnNotification(from, msg);
    Pump(to);
    if (options_.channel_reports && up(from)) {
      S(from).node->OnPeerChannel(to, true);  // its connection is up
      Pump(from);
    }
  };
  At(fifo, deliver);
  if (options_.dup_rate > 0 && Rand(1000) < options_.dup_rate * 1000) At(fifo + 1, deliver);
}

// Reported to `at` after delay_ms, after what `peer` sent `at` before.
void World::ReportChannel(ServerId at, ServerId peer, bool up, int64_t delay_ms) {
  auto& fifo = fifo_ms_[{peer, at}];
  fifo = std::max(fifo, now_ms_ + delay_ms);
  uint64_t inc = S(at).incarnation;
  At(fifo, [this, at, peer, up, inc] {
    Server& s = S(at);
    if (!s.up || s.incarnation != inc) return;
    if (options_.trace_notifications) Trace(fmt::format("{} channel to {} {}", at, peer, up ? "up" : "DOWN"));
    s.node->OnPeerChannel(peer, up);
    Pump(at);
  });
}

void World::ChannelBlip() {
  std::vector<ServerId> live;
  for (const auto& [id, s] : servers_) {
    if (s->up) live.push_back(id);
  }
  if (live.size() < 2) return;
  ServerId at = live[Rand(live.size())];
  ServerId peer = live[Rand(live.size())];
  if (at == peer) return;
  Trace(fmt::format("election channel {}-{} blips", at, peer));
  ReportChannel(at, peer, false, RandRange(0, options_.net_max_ms));
}

void World::SendOutgoing(Server& s, const Outgoing& out) {
  switch (out.kind) {
    case Outgoing::Kind::kPacket:
      return SendPacket(out.conn, s.id, out.packet);
    case Outgoing::Kind::kDiff: {
      bool from_ok = out.from == s.log_base;
      for (const auto& [z, bytes] : s.log) {
        if (z == out.from) from_ok = true;
        if (z <= out.from || z > out.to) continue;
        SendPacket(out.conn, s.id, {quorum::PacketType::kProposal, z, bytes, false, {}});
        SendPacket(out.conn, s.id, {quorum::PacketType::kCommit, z, {}, false, {}});
      }
      if (!from_ok) checker_.Fail(fmt::format("server {}: DIFF from {:#x} not in its log", s.id, out.from));
      return;
    }
    case Outgoing::Kind::kSnap:
      if (s.applied != out.to && s.applied != s.reported) {
        // A leader whose replayed tail is not committed yet cannot
        // serialise the state at `to`: the host closes the learner (as
        // QuorumPeer::SendSnap), which retries.
        Trace(fmt::format("{} cannot SNAP at {:#x} (state at {:#x}): closing the learner", s.id, out.to, s.applied));
        return CloseConn(out.conn, s.id);
      }
      if (s.applied != out.to) {
        checker_.Fail(fmt::format("server {}: SNAP at {:#x} but applied {:#x}", s.id, out.to, s.applied));
      }
      return SendPacket(out.conn, s.id, {quorum::PacketType::kSnap, out.to, SnapshotBytes(s), false, {}});
  }
}

void World::SendPacket(uint64_t cid, ServerId from, const zab::QuorumPacket& p) {
  auto it = conns_.find(cid);
  if (it == conns_.end() || it->second->dead || it->second->closed_by != 0) return;
  Conn& c = *it->second;
  int dir = from == c.learner ? 0 : 1;
  ServerId to = dir == 0 ? c.leader : c.learner;
  c.last_ms[dir] = std::max(c.last_ms[dir], now_ms_ + RandRange(options_.net_min_ms, options_.net_max_ms));
  At(c.last_ms[dir], [this, cid, from, to, p] {
    auto it = conns_.find(cid);
    if (it == conns_.end() || it->second->dead || it->second->closed_by == to) return;
    Conn& c = *it->second;
    Server& t = S(to);
    if (!t.up || t.incarnation != (to == c.leader ? c.inc_leader : c.inc_learner)) return;
    if (Cut(from, to)) return BreakConn(cid, Rand(2) == 0);
    if (p.type != quorum::PacketType::kPing || options_.trace_pings) {
      bool text = p.type == quorum::PacketType::kProposal || p.type == quorum::PacketType::kRequest ||
                  p.type == quorum::PacketType::kInform;
      std::string data = text ? " " + p.data.substr(0, 32) : "";
      if (p.type == quorum::PacketType::kSnap) data = fmt::format(" ({} bytes)", p.data.size());
      Trace(fmt::format("{}->{} {} {:#x}{}", from, to, PacketName(p.type), p.zxid, data));
    }
    if (to == c.leader) {
      t.node->OnLearnerPacket(cid, p);
    } else {
      t.node->OnLeaderPacket(cid, p);
    }
    Pump(to);
  });
}

void World::Connect(ServerId learner, ServerId leader) {
  uint64_t inc = S(learner).incarnation;
  At(now_ms_ + options_.connect_ms, [this, learner, leader, inc] {
    Server& l = S(learner);
    if (!l.up || l.incarnation != inc) return;
    Server& r = S(leader);
    if (!r.up || Cut(learner, leader) || r.node->role() != zab::Role::kLeading) {
      l.node->OnLeaderConnectFailed();
      return Pump(learner);
    }
    auto c = std::make_unique<Conn>();
    uint64_t id = c->id = next_conn_++;
    c->learner = learner;
    c->leader = leader;
    c->inc_learner = inc;
    c->inc_leader = r.incarnation;
    conns_[id] = std::move(c);
    r.node->OnLearnerConnected(id);
    Pump(leader);
    l.node->OnLeaderConnected(id);
    Pump(learner);
  });
}

void World::CloseConn(uint64_t cid, ServerId by) {
  auto it = conns_.find(cid);
  if (it == conns_.end() || it->second->dead || it->second->closed_by != 0) return;
  Conn& c = *it->second;
  c.closed_by = by;
  int dir = by == c.learner ? 0 : 1;
  ServerId other = dir == 0 ? c.leader : c.learner;
  uint64_t inc = other == c.leader ? c.inc_leader : c.inc_learner;
  int64_t t = std::max(c.last_ms[dir], now_ms_) + RandRange(options_.net_min_ms, options_.net_max_ms);
  At(t, [this, cid, other, inc, is_leader = other == c.leader] {
    Server& s = S(other);
    if (!s.up || s.incarnation != inc) return;
    if (is_leader) {
      s.node->OnLearnerDisconnected(cid);
    } else {
      s.node->OnLeaderDisconnected(cid);
    }
    Pump(other);
    conns_.erase(cid);
  });
}

void World::BreakConn(uint64_t cid, bool tell) {
  auto it = conns_.find(cid);
  if (it == conns_.end() || it->second->dead) return;
  Conn& c = *it->second;
  c.dead = true;
  if (!tell) return;
  for (int side = 0; side < 2; ++side) {
    ServerId id = side == 0 ? c.learner : c.leader;
    uint64_t inc = side == 0 ? c.inc_learner : c.inc_leader;
    At(now_ms_ + RandRange(options_.net_min_ms, options_.net_max_ms), [this, cid, id, inc, side] {
      Server& s = S(id);
      if (!s.up || s.incarnation != inc) return;
      if (side == 0) {
        s.node->OnLeaderDisconnected(cid);
      } else {
        s.node->OnLearnerDisconnected(cid);
      }
      Pump(id);
    });
  }
}

void World::BreakConnections(ServerId id) {
  for (auto& [cid, c] : conns_) {
    if (c->learner == id || c->leader == id) BreakConn(cid, true);
  }
}

void World::BreakRandomConnection() {
  std::vector<uint64_t> live;
  for (auto& [cid, c] : conns_) {
    if (!c->dead && c->closed_by == 0) live.push_back(cid);
  }
  if (live.empty()) return;
  uint64_t cid = live[Rand(live.size())];
  Trace(fmt::format("break connection {}-{}", conns_[cid]->learner, conns_[cid]->leader));
  BreakConn(cid, Rand(4) != 0);
}

void World::HostPacket(Server& s, const zab::HostPacket& hp) {
  if (hp.packet.type == quorum::PacketType::kRequest && s.node->role() == zab::Role::kLeading) {
    ProposeFromHost(s, hp.packet.data);
  }
}

void World::ProposeFromHost(Server& s, const std::string& bytes) {
  zab::ProposeStatus st = s.node->Propose(s.node->NextZxid(), bytes);
  if (st != zab::ProposeStatus::kOk) Trace(fmt::format("{} propose refused ({})", s.id, static_cast<int>(st)));
}

void World::Write(int client, ServerId via, const std::string& key, const std::string& value, Done done) {
  int64_t id = next_write_id_++;
  std::string bytes = EncodeTxn({id, key, value});
  checker_.OnWriteInvoked(id, now_ms_);
  Trace(fmt::format("client {} write {} via {}", client, bytes, via));
  auto finished = std::make_shared<bool>(false);
  At(now_ms_ + RandRange(options_.net_min_ms, options_.net_max_ms), [this, client, via, id, bytes, finished, done] {
    Server& s = S(via);
    if (!s.up || !s.node->serving()) return;
    s.waiting[id] = {client, finished, done};
    if (s.node->role() == zab::Role::kLeading) {
      ProposeFromHost(s, bytes);
    } else {
      s.node->Forward({quorum::PacketType::kRequest, 0, bytes, false, {}});
    }
    Pump(via);
  });
  // The client gives up after a while; the outcome is then unknown.
  At(now_ms_ + 20 * options_.tick_ms, [finished, done] {
    if (*finished) return;
    *finished = true;
    done(false, 0);
  });
}

void World::Read(int client, ServerId via, const std::string& key, ReadDone done) {
  At(now_ms_ + RandRange(options_.net_min_ms, options_.net_max_ms), [this, client, via, key, done] {
    Server& s = S(via);
    // A server refuses a client that has seen a newer zxid than its own.
    if (!s.up || !s.node->serving() || s.applied < checker_.ClientSeen(client)) return done(false, "", 0);
    if (s.applied != s.reported) checker_.Fail(fmt::format("server {} serves a state not known committed", s.id));
    std::string value = s.kv.count(key) ? s.kv[key] : "";
    Zxid at = s.applied;
    At(now_ms_ + RandRange(options_.net_min_ms, options_.net_max_ms), [this, client, key, value, at, done] {
      checker_.OnRead(client, key, value, at, now_ms_);
      done(true, value, at);
    });
  });
}

std::optional<ServerId> World::ServingLeader() const {
  for (const auto& [id, s] : servers_) {
    if (s->up && s->node->role() == zab::Role::kLeading && s->node->serving()) return id;
  }
  return std::nullopt;
}

std::string World::Status(ServerId id) const {
  const Server& s = *servers_.at(id);
  if (!s.up) return fmt::format("{} down", id);
  std::string kv;
  for (const auto& [k, v] : s.kv) kv += fmt::format(" {}={}", k, v);
  return fmt::format("{} {} applied={:#x}{}", id, s.node->Describe(), s.applied, kv);
}

std::string World::LogOf(ServerId id) const {
  const Server& s = *servers_.at(id);
  std::string out = fmt::format("{} log base={:#x}:", id, s.log_base);
  for (size_t i = 0; i < s.log.size(); ++i) {
    out += fmt::format(" {:#x}{}", s.log[i].first, i < s.synced ? "" : "*");
  }
  return out;
}

}  // namespace aviary::sim
