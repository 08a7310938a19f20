// Snapshots of trees of 100k and 1M leaves (support.h TreeOfSize), through
// the adapter in support.cc (storage::SnapshotBuilder / SnapshotFileWriter /
// Recover): serialisation into memory (CPU only), a durable write into a
// scratch directory on the real disk (fsync + rename), and a restart's
// load (storage::Recover into a fresh txn::StateMachine, the file in the
// page cache). items/s are nodes/s; bytes/s the snapshot's bytes; both per
// CPU second of the process, except for the write (wall clock).
#include <memory>

#include "support.h"

namespace aviary::microbench {
namespace {

void Finish(benchmark::State& state, const tree::DataTree& tree, int64_t bytes) {
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(tree.NodeCount()));
  state.SetBytesProcessed(state.iterations() * bytes);
}

void Serialize(benchmark::State& state) {
  const SharedTree& st = TreeOfSize(state.range(0));
  int64_t bytes = 0;
  for (auto _ : state) {
    bytes = SerializeSnapshot(st.tree, st.zxid, 10000, [](std::string_view chunk) {
      benchmark::DoNotOptimize(chunk.data());
      return true;
    });
  }
  Finish(state, st.tree, bytes);
}

void Write(benchmark::State& state) {
  const SharedTree& st = TreeOfSize(state.range(0));
  ScratchDir dir;
  std::string error;
  for (auto _ : state) {
    if (!WriteSnapshot(st.tree, st.zxid, dir.path(), &error)) {
      Fail(state, error);
      break;
    }
  }
  Finish(state, st.tree, SerializeSnapshot(st.tree, st.zxid, 10000, [](std::string_view) { return true; }));
}

void Load(benchmark::State& state) {
  const SharedTree& st = TreeOfSize(state.range(0));
  ScratchDir dir;
  std::string error;
  if (!WriteSnapshot(st.tree, st.zxid, dir.path(), &error)) {
    Fail(state, error);
    return;
  }
  for (auto _ : state) {
    state.PauseTiming();
    auto sm = std::make_unique<txn::StateMachine>();
    state.ResumeTiming();
    const int64_t loaded = LoadSnapshot(dir.path(), sm.get(), &error);
    state.PauseTiming();
    if (loaded < 0 || sm->tree().NodeCount() != st.tree.NodeCount()) {
      Fail(state, loaded < 0 ? error : "the loaded tree differs in size");
      break;
    }
    sm.reset();
    state.ResumeTiming();
  }
  Finish(state, st.tree, SerializeSnapshot(st.tree, st.zxid, 10000, [](std::string_view) { return true; }));
}

}  // namespace

void RegisterSnapshot(const Scale& s) {
  const std::vector<int64_t> sizes = s.Pick({100000, 1000000}, 1000);
  // CPU time of the whole process (a loader or writer that uses both cores
  // is charged for both); the durable write on the wall clock (fsync).
  Register("snapshot/serialize", Serialize, "nodes", sizes)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
  Register("snapshot/write", Write, "nodes", sizes)
      ->Unit(benchmark::kMillisecond)
      ->MeasureProcessCPUTime()
      ->UseRealTime();
  Register("snapshot/load", Load, "nodes", sizes)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();
}

}  // namespace aviary::microbench
