#include "scenario.h"

#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "world.h"

namespace aviary::sim {
namespace {

constexpr int64_t kLivenessBoundMs = 15000;  // faults stop -> a write commits
constexpr int64_t kSettleMs = 4000;          // clients stop -> all converge

struct Run {
  World& w;
  int64_t faults_until_ms;
  bool clients_on = true;
  int64_t first_ack_after_faults_ms = -1;

  void Fault() {
    std::vector<ServerId> ids = w.ids();
    ServerId victim = ids[w.Rand(ids.size())];
    if (auto leader = w.ServingLeader(); leader && w.Rand(3) == 0) victim = *leader;
    switch (w.Rand(10)) {
      case 0:
      case 1:
        if (!w.up(victim)) break;
        w.Crash(victim);
        w.RunFor(0);
        Later(w.RandRange(50, 3000), [this, victim] { w.Start(victim); });
        break;
      case 2: {
        std::set<ServerId> side;
        for (ServerId id : ids) {
          if (w.Rand(2)) side.insert(id);
        }
        std::set<ServerId> rest;
        for (ServerId id : ids) {
          if (!side.count(id)) rest.insert(id);
        }
        w.Partition({side, rest});
        Later(w.RandRange(100, 4000), [this] { w.Heal(); });
        break;
      }
      case 3:
        w.BreakRandomConnection();
        break;
      case 4:
        if (w.up(victim)) w.Compact(victim);
        break;
      case 8:  // power loss of several servers at once (unsynced writes gone)
        for (ServerId id : ids) {
          if (w.up(id) && w.Rand(3) != 0) {
            w.Crash(id);
            Later(w.RandRange(50, 2000), [this, id] { w.Start(id); });
          }
        }
        break;
      case 7:
        w.StallDisk(victim, w.RandRange(100, 1500));
        break;
      case 6:
        for (ServerId id : ids) {
          if (w.up(id) && w.Rand(2)) w.Compact(id);
        }
        break;
      case 9:  // an election connection resets while both ends live
        w.ChannelBlip();
        break;
      case 5: {
        if (w.up(victim)) {  // isolate one server
          std::set<ServerId> rest;
          for (ServerId id : ids) {
            if (id != victim) rest.insert(id);
          }
          w.Partition({{victim}, rest});
          Later(w.RandRange(100, 3000), [this] { w.Heal(); });
        }
        break;
      }
    }
  }

  void Later(int64_t delay_ms, std::function<void()> fn) { w.At(w.now() + delay_ms, std::move(fn)); }

  void Client(int client) {
    if (!clients_on) return;
    std::vector<ServerId> ids = w.ids();
    ServerId via = ids[w.Rand(ids.size())];
    std::string key(1, static_cast<char>('a' + w.Rand(4)));
    int64_t start = w.now();
    if (w.Rand(10) < 7) {
      w.Write(client, via, key, fmt::format("v{}", start), [this, client, start](bool ok, Zxid) {
        if (ok && start >= faults_until_ms && first_ack_after_faults_ms < 0) first_ack_after_faults_ms = w.now();
        Later(w.RandRange(1, 60), [this, client] { Client(client); });
      });
    } else {
      w.Read(client, via, key, [this, client](bool, const std::string&, Zxid) {
        Later(w.RandRange(1, 60), [this, client] { Client(client); });
      });
    }
  }

  void Advance(int64_t until_ms) { w.RunUntil(until_ms); }
};

}  // namespace

RunResult RunSeed(uint64_t seed, bool verbose) {
  Options o;
  o.seed = seed;
  std::mt19937_64 pick(seed * 0x9e3779b97f4a7c15ULL + 1);
  o.voters = 3 + 2 * static_cast<int>(pick() % 3);
  o.observers = static_cast<int>(pick() % 3);
  o.net_max_ms = 2 + static_cast<int64_t>(pick() % 60);
  o.init_limit = 3 + static_cast<int64_t>(pick() % 8);
  o.sync_limit = 2 + static_cast<int64_t>(pick() % 4);
  o.fsync_max_ms = 1 + static_cast<int64_t>(pick() % 20);
  o.dup_rate = 0.02;
  o.max_log_index = 64 + pick() % 512;
  o.replay_log_at_start = seed % 2 == 0;  // the hosts' restart (Aviary, ZooKeeper) on half the seeds
  o.trace_notifications = verbose && std::getenv("SIM_TRACE_VOTES");
  World w(o);
  if (verbose) w.SetTrace([](const std::string& line) { std::printf("%s\n", line.c_str()); });
  int64_t faults_until = 3000 + static_cast<int64_t>(pick() % 12000);
  Run run{w, faults_until, true, -1};
  for (ServerId id : w.ids()) w.Start(id);
  int clients = 2 + static_cast<int>(pick() % 3);
  for (int c = 0; c < clients; ++c) run.Later(100 + c, [&run, c] { run.Client(c); });
  int64_t next_fault = 200;
  while (next_fault < faults_until) {
    run.Advance(next_fault);
    run.Fault();
    next_fault += w.RandRange(50, 1500);
  }
  run.Advance(faults_until);
  w.Heal();
  for (ServerId id : w.ids()) w.Start(id);
  run.Advance(faults_until + kLivenessBoundMs);
  RunResult result;
  result.seed = seed;
  if (run.first_ack_after_faults_ms < 0) {
    w.checker().Fail(
        fmt::format("liveness: no write committed within {} ms after the faults stopped", kLivenessBoundMs));
  }
  run.clients_on = false;
  run.Advance(w.now() + kSettleMs);
  Zxid top = 0;
  for (ServerId id : w.ids()) top = std::max(top, w.node(id)->committed());
  for (ServerId id : w.ids()) {
    const zab::Node* n = w.node(id);
    if (!n->serving() || n->committed() != top) {
      w.checker().Fail(fmt::format("liveness: server {} did not converge: {}", id, w.Status(id)));
    }
  }
  w.checker().Finish();
  result.failures = w.checker().failures();
  result.committed = w.checker().committed();
  result.acked = w.checker().acked();
  result.events = w.events();
  result.summary = fmt::format(
      "seed {}: {} voters + {} observers, init/sync {}/{} ticks, net <= {} ms, faults until {} ms, {} txns "
      "committed, {} acked, {} events",
      seed, o.voters, o.observers, o.init_limit, o.sync_limit, o.net_max_ms, faults_until, result.committed,
      result.acked, result.events);
  return result;
}

}  // namespace aviary::sim
