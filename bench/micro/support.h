// Shared pieces of the micro-benchmarks (aviary-microbench, docs/perf/micro-benchmarks.md):
// registration scale (full or --smoke), realistic znode paths and payloads,
// txn builders, trees of N nodes built through txn::Apply (cached for the
// whole run), a scratch directory on the real disk, and the one adapter to
// the snapshot writer/loader. Only this file and support.cc name storage's
// snapshot API, so that a format change needs an edit here only.
// Single-threaded: Google Benchmark runs every benchmark on the main thread.
#pragma once

#include <benchmark/benchmark.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "proto/records.h"
#include "tree/data_tree.h"
#include "txn/state_machine.h"
#include "txn/txn.h"

namespace aviary::microbench {

// Full runs register every size; --smoke registers the first (smallest) of
// each axis, so every family runs once and stays compilable and working.
struct Scale {
  bool smoke = false;
  std::vector<int64_t> Pick(std::initializer_list<int64_t> full) const {
    if (smoke) return {*full.begin()};
    return std::vector<int64_t>(full);
  }
  // The same with a smaller size of its own for --smoke.
  std::vector<int64_t> Pick(std::initializer_list<int64_t> full, int64_t smoke_value) const {
    if (smoke) return {smoke_value};
    return std::vector<int64_t>(full);
  }
};

// SkipWithError that also counts: aviary-microbench exits 1 when any
// benchmark failed (Google Benchmark itself exits 0), so the smoke test fails.
void Fail(benchmark::State& state, const std::string& message);
int Failures();

// Registers `fn` as family `name` with one argument named `arg` taking each
// of `values` (none when `arg` is empty).
benchmark::internal::Benchmark* Register(const char* name, void (*fn)(benchmark::State&), const char* arg = "",
                                         const std::vector<int64_t>& values = {});

void RegisterCodec(const Scale& s);
void RegisterTree(const Scale& s);
void RegisterWatch(const Scale& s);
void RegisterWal(const Scale& s);
void RegisterSnapshot(const Scale& s);
void RegisterCrc32c(const Scale& s);
void RegisterTxnCodec(const Scale& s);

// "/app/service-17/node-0000001234": znode i of a tree whose leaves sit
// kLeavesPerService to a parent.
inline constexpr int64_t kLeavesPerService = 1000;
std::string ServicePath(int64_t service);
std::string LeafPath(int64_t i);
// Deterministic printable bytes (a JSON-ish config blob), n long.
std::string Payload(size_t n);
proto::AclList OpenAcl();

// Txns as Preparer makes them (persistent nodes, open ACL).
txn::Txn CreateTxn(const std::string& path, std::string data, int64_t zxid);
txn::Txn SetDataTxn(const std::string& path, std::string data, int32_t version, int64_t zxid);
txn::Txn DeleteTxn(const std::string& path, int64_t zxid);

// A tree of about `nodes` leaves of 100 B (LeafPath(0..nodes-1)) under
// /app/service-*, built once per size and kept for the run. Benchmarks that
// change it put it back as they found it. zxid is its last applied zxid.
struct SharedTree {
  tree::DataTree tree;
  int64_t leaves = 0;
  int64_t zxid = 0;
};
SharedTree& TreeOfSize(int64_t nodes);

// A fresh directory under $AVIARY_MICROBENCH_DIR (default /tmp), removed
// with everything in it on destruction.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// --- snapshot adapter (storage's entry points) ------------------------------
// Serialises `tree` as the snapshot at `zxid`, in chunks of chunk_nodes
// nodes; each chunk is handed to `sink` and then dropped. Returns the bytes.
int64_t SerializeSnapshot(const tree::DataTree& tree, int64_t zxid, size_t chunk_nodes,
                          const std::function<bool(std::string_view)>& sink);
// Writes the snapshot durably into `dir` (dataDir layout). false + *error on failure.
bool WriteSnapshot(const tree::DataTree& tree, int64_t zxid, const std::string& dir, std::string* error);
// Restart: loads the newest snapshot of `dir` (and its empty log dir) into a
// fresh state machine. Returns the nodes loaded, -1 (+ *error) on failure.
int64_t LoadSnapshot(const std::string& dir, txn::StateMachine* sm, std::string* error);

}  // namespace aviary::microbench
