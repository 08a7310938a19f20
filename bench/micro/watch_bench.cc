// The watch manager's public API (watch::WatchManager): registering data
// watches (getData/exists with watch=true), triggering a one-shot fan-out
// of 1 / 100 / 10k watchers on one path, persistent watches (not consumed),
// persistent-recursive watches on every ancestor of a deep path, and the
// cost every write pays to trigger a path nobody watches.
#include <fmt/core.h>

#include "support.h"
#include "watch/watch_manager.h"

namespace aviary::microbench {
namespace {

constexpr int64_t kAddBatch = 1024;
constexpr int64_t kConnections = 64;
const char* const kHotPath = "/app/service-17/node-0000017234";

void AddData(benchmark::State& state) {
  std::vector<std::string> paths;
  for (int64_t i = 0; i < kAddBatch; ++i) paths.push_back(LeafPath(i * 977 % 100000));
  watch::WatchManager wm;
  for (auto _ : state) {
    for (int64_t i = 0; i < kAddBatch; ++i) {
      bool ok = wm.AddData(paths[i], 1 + i % kConnections);
      benchmark::DoNotOptimize(ok);
    }
    state.PauseTiming();
    for (int64_t w = 1; w <= kConnections; ++w) wm.RemoveAll(w);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kAddBatch);
}

// One-shot data watches of `watchers` connections on one path, fired by a
// setData: registration untimed, the trigger (and removal) timed.
void Trigger(benchmark::State& state) {
  const int64_t watchers = state.range(0);
  watch::WatchManager wm;
  std::vector<watch::Fired> out;
  for (auto _ : state) {
    state.PauseTiming();
    for (int64_t w = 1; w <= watchers; ++w) wm.AddData(kHotPath, w);
    out.clear();
    state.ResumeTiming();
    wm.Trigger(kHotPath, proto::EventType::kNodeDataChanged, &out);
    benchmark::DoNotOptimize(out.data());
  }
  if (out.size() != static_cast<size_t>(watchers)) Fail(state, "wrong number of events");
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations() * watchers), benchmark::Counter::kIsRate);
}

// Persistent watches stay: every iteration is a pure trigger.
void TriggerPersistent(benchmark::State& state) {
  const int64_t watchers = state.range(0);
  watch::WatchManager wm;
  for (int64_t w = 1; w <= watchers; ++w) wm.AddPersistent(kHotPath, w, false);
  std::vector<watch::Fired> out;
  for (auto _ : state) {
    out.clear();
    wm.Trigger(kHotPath, proto::EventType::kNodeDataChanged, &out);
    benchmark::DoNotOptimize(out.data());
  }
  if (out.size() != static_cast<size_t>(watchers)) Fail(state, "wrong number of events");
  state.SetItemsProcessed(state.iterations());
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations() * watchers), benchmark::Counter::kIsRate);
}

// A leaf `ancestors` levels below /app, each ancestor watched recursively
// by its own connection: one event per ancestor.
void TriggerRecursive(benchmark::State& state) {
  const int64_t ancestors = state.range(0);
  watch::WatchManager wm;
  std::string path = "/app";
  wm.AddPersistent(path, 1, true);
  for (int64_t d = 1; d < ancestors; ++d) {
    path += fmt::format("/level-{}", d);
    wm.AddPersistent(path, 1 + d, true);
  }
  path += "/node-0000001234";
  std::vector<watch::Fired> out;
  for (auto _ : state) {
    out.clear();
    wm.Trigger(path, proto::EventType::kNodeDataChanged, &out);
    benchmark::DoNotOptimize(out.data());
  }
  if (out.size() != static_cast<size_t>(ancestors)) Fail(state, "wrong number of events");
  state.SetItemsProcessed(state.iterations());
}

// Every write triggers its path and its parent; usually nobody watches
// them, but recursive watches elsewhere make each trigger walk the
// ancestors. Arg: recursive watches on unrelated paths.
void TriggerUnwatched(benchmark::State& state) {
  watch::WatchManager wm;
  for (int64_t i = 0; i < state.range(0); ++i) wm.AddPersistent(fmt::format("/other/service-{}", i), 1 + i, true);
  std::vector<watch::Fired> out;
  for (auto _ : state) {
    out.clear();
    wm.Trigger(kHotPath, proto::EventType::kNodeDataChanged, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

void RegisterWatch(const Scale& s) {
  Register("watch/add_data", AddData);
  Register("watch/trigger", Trigger, "watchers", s.Pick({1, 100, 10000}));
  Register("watch/trigger_persistent", TriggerPersistent, "watchers", s.Pick({1, 100, 10000}));
  Register("watch/trigger_recursive", TriggerRecursive, "ancestors", s.Pick({1, 8, 32}));
  Register("watch/trigger_unwatched", TriggerUnwatched, "recursive_elsewhere", s.Pick({0, 10000}));
}

}  // namespace aviary::microbench
