// sim::World: a whole ensemble of zab::Nodes in one process, driven by one
// seeded PRNG and one simulated clock (docs/design/zab.md "Simulator").
//
// Network: election notifications per ordered pair in FIFO order (as over
// QuorumCnxManager's one TCP connection per pair), lost with the connection,
// duplicated only as QuorumCnxManager's resend of the last message after a
// reconnect can; quorum-port connections are FIFO per direction and can break
// (both ends learn it, or only notice by timeouts). Partitions cut both.
// Election channels report down (a send to a crashed or cut-off server: the
// connect fails, or times out much later, or is never noticed; a crash
// closes established ones, noticed by some peers) and up (a delivered
// notification), in order with the notifications of that pair; a channel
// also blips down while both ends live (ChannelBlip).
// Disk per server: the log with a durable prefix (fsync latency, completions
// in order), epoch files written synchronously, a snapshot; a crash keeps
// only the durable part. Clients write through any server (followers
// forward REQUEST) and read from the server they talk to.
// Everything is deterministic given (options, seed).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "checker.h"
#include "zab/node.h"

namespace aviary::sim {

struct Options {
  uint64_t seed = 1;
  int voters = 3;
  int observers = 0;
  int64_t tick_ms = 100;
  int64_t init_limit = 5;
  int64_t sync_limit = 3;
  int64_t step_ms = 10;  // how often each server's Tick runs
  int64_t net_min_ms = 1, net_max_ms = 10;
  int64_t fsync_min_ms = 1, fsync_max_ms = 8;
  int64_t connect_ms = 2;
  double dup_rate = 0.0;  // duplicated notifications
  bool trace_pings = false;
  bool trace_notifications = false;
  size_t max_log_index = 1 << 20;
  // As Aviary's server and ZooKeeper do: a restart applies the whole durable
  // log to the state (tentatively: only the snapshot is known committed), and
  // a TRUNC below it reloads the state from the snapshot + the cut log.
  bool replay_log_at_start = false;
  // Election channel reports (Node::OnPeerChannel): down on a send to a
  // crashed or cut-off server and at a crash, up on delivery.
  bool channel_reports = true;
  uint64_t max_events = 5'000'000;  // a runaway run fails instead of hanging
};

class World {
 public:
  explicit World(const Options& options);
  ~World();

  using Sink = std::function<void(const std::string&)>;
  void SetTrace(Sink sink) { trace_ = std::move(sink); }

  std::vector<ServerId> ids() const;
  void Start(ServerId id);
  void Crash(ServerId id);
  void Partition(const std::vector<std::set<ServerId>>& groups);
  void Heal();
  void BreakConnections(ServerId id);  // every quorum connection of `id`
  void BreakRandomConnection();
  void ChannelBlip();                       // a random live server sees its channel to another live one go down
  void Compact(ServerId id);                // snapshot the applied state, trim the log
  void StallDisk(ServerId id, int64_t ms);  // fsyncs requested in the next `ms` wait it out
  void RunFor(int64_t ms);
  void RunUntil(int64_t t_ms);
  int64_t now() const { return now_ms_; }
  void At(int64_t t_ms, std::function<void()> fn);  // run fn at simulated time t_ms

  // Clients. A write goes to server `via`; done(ok, zxid) when acked or failed.
  using Done = std::function<void(bool ok, Zxid zxid)>;
  void Write(int client, ServerId via, const std::string& key, const std::string& value, Done done);
  using ReadDone = std::function<void(bool ok, const std::string& value, Zxid at)>;
  void Read(int client, ServerId via, const std::string& key, ReadDone done);

  bool up(ServerId id) const;
  const zab::Node* node(ServerId id) const;
  std::string Status(ServerId id) const;
  std::string LogOf(ServerId id) const;
  std::optional<ServerId> ServingLeader() const;
  Checker& checker() { return checker_; }
  uint64_t Rand(uint64_t n) { return n == 0 ? 0 : rng_() % n; }
  int64_t RandRange(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Rand(hi - lo + 1)); }
  uint64_t events() const { return events_; }

 private:
  struct Server;
  struct Conn;
  struct Event {
    int64_t at;
    uint64_t seq;
    std::function<void()> fn;
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : seq > o.seq; }
  };

  void Trace(const std::string& line);
  bool Cut(ServerId a, ServerId b) const;
  Server& S(ServerId id);
  void Pump(ServerId id);
  void RunStorage(Server& s, std::vector<zab::StorageOp>& ops);
  void ApplyThrough(Server& s, Zxid zxid);
  void Reload(Server& s, Zxid through);
  void SendNotification(ServerId from, const zab::NotificationOut& n);
  void ReportChannel(ServerId at, ServerId peer, bool up, int64_t delay_ms);
  void SendOutgoing(Server& s, const zab::Outgoing& out);
  void SendPacket(uint64_t conn, ServerId from, const zab::QuorumPacket& p);
  void Connect(ServerId learner, ServerId leader);
  void CloseConn(uint64_t conn, ServerId by);
  void BreakConn(uint64_t conn, bool tell_both);
  void HostPacket(Server& s, const zab::HostPacket& hp);
  void ProposeFromHost(Server& s, const std::string& bytes);
  void ScheduleTick(ServerId id, uint64_t incarnation);
  std::string SnapshotBytes(const Server& s) const;

  Options options_;
  std::mt19937_64 rng_;
  int64_t now_ms_ = 0;
  uint64_t seq_ = 0;
  uint64_t events_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<Event>> queue_;
  std::map<ServerId, std::unique_ptr<Server>> servers_;
  std::map<uint64_t, std::unique_ptr<Conn>> conns_;
  uint64_t next_conn_ = 1;
  std::map<ServerId, int> group_;  // partition group per server
  std::map<std::pair<ServerId, ServerId>, int64_t> fifo_ms_;
  Checker checker_;
  Sink trace_;
  int64_t next_write_id_ = 1;
};

}  // namespace aviary::sim
