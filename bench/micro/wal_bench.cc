// Write-ahead log append (storage::Wal): `group` records of `record_bytes`
// (the txn codec's bytes: a setData of /app/service-17/node-...) appended,
// then one Sync: with fsync=1 that is the group commit's fdatasync into a
// scratch directory on the real disk, timed on the wall clock (the wait for
// the disk is not CPU time); with fsync=0 only the write(2) into the page
// cache, timed in CPU time, which separates the CPU cost from the disk's. Segments are rolled untimed at the
// preallocation size and the old one deleted, so the disk use stays bounded.
#include <unistd.h>

#include "storage/txn_codec.h"
#include "storage/wal.h"
#include "support.h"

namespace aviary::microbench {
namespace {

// A setData txn whose encoding is `record_bytes` long (at least its header).
txn::Txn RecordOf(size_t record_bytes) {
  txn::Txn t = SetDataTxn("/app/service-17/node-0000017234", "", 1, 0);
  const size_t overhead = storage::EncodedTxnBytes(t);
  std::get<txn::SetDataTxn>(t.op.body).data = Payload(record_bytes > overhead ? record_bytes - overhead : 0);
  return t;
}

bool RollIfFull(storage::Wal& wal, const storage::WalOptions& o, std::string* error) {
  if (wal.segment_bytes() < o.prealloc_bytes) return true;
  const std::string old = wal.segment_path();
  if (!wal.Roll(wal.last_zxid() + 1, error)) return false;
  unlink(old.c_str());
  return true;
}

void Append(benchmark::State& state) {
  const auto record_bytes = static_cast<size_t>(state.range(0));
  const int64_t group = state.range(1);
  ScratchDir dir;
  storage::WalOptions o;
  o.dir = dir.path();
  o.force_sync = state.range(2) != 0;
  storage::Wal wal(o);
  std::string error;
  if (!wal.Open(1, &error)) {
    Fail(state, error);
    return;
  }
  txn::Txn t = RecordOf(record_bytes);
  int64_t zxid = 0;
  for (auto _ : state) {
    bool ok = true;
    for (int64_t i = 0; i < group && ok; ++i) {
      t.zxid = ++zxid;
      ok = wal.Append(t, &error);
    }
    if (!ok || !wal.Sync(&error)) {
      Fail(state, error);
      break;
    }
    state.PauseTiming();
    ok = RollIfFull(wal, o, &error);
    state.ResumeTiming();
    if (!ok) {
      Fail(state, error);
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * group);
  state.SetBytesProcessed(state.iterations() * group * static_cast<int64_t>(storage::EncodedTxnBytes(t)));
  state.counters["syncs_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

}  // namespace

void RegisterWal(const Scale& s) {
  for (int64_t fsync : s.Pick({1, 0})) {
    benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark("wal/append", Append)
                                            ->ArgNames({"record_bytes", "group", "fsync"})
                                            ->ArgsProduct({s.Pick({100, 1024}), s.Pick({1, 16, 256}), {fsync}});
    // With fsync the wait for the disk is the figure (wall clock); without,
    // the CPU time of append + write(2) is.
    if (fsync != 0) b->UseRealTime();
  }
}

}  // namespace aviary::microbench
