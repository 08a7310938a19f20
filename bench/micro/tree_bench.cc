// The data tree through the server's own entry points: writes are Txn
// records applied by txn::Apply (DataTree mutators + watch triggers + the
// result's Stat), reads are txn::ProcessRead (lookup, READ check, copy of
// data/children into the reply body), plus the raw DataTree::Find lookup.
// Trees of 1k / 100k / 1M leaves of 100 B (support.h TreeOfSize) are built
// once; every benchmark leaves its tree as it found it. Lookups visit leaves
// in a random order (64k distinct paths), so big trees pay their cache misses.
#include <fmt/core.h>

#include <map>
#include <memory>
#include <random>

#include "support.h"
#include "txn/apply.h"
#include "txn/read.h"

namespace aviary::microbench {
namespace {

constexpr int64_t kBatch = 256;         // writes between two untimed restores
constexpr size_t kLookupPaths = 65536;  // distinct random leaves per lookup benchmark

std::vector<int64_t> RandomLeaves(int64_t leaves, size_t n) {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> pick(0, leaves - 1);
  std::vector<int64_t> out(n);
  for (int64_t& i : out) i = pick(rng);
  return out;
}

txn::SessionCtx Reader() {
  txn::SessionCtx ctx;
  ctx.session_id = 0x1000000abcdefLL;
  ctx.ids.push_back({"ip", "127.0.0.1"});
  return ctx;
}

// Fresh leaf names (never in the tree), spread over its services.
std::vector<std::string> NewPaths(const SharedTree& st, int64_t n) {
  static int64_t seq = 0;
  const int64_t services = (st.leaves + kLeavesPerService - 1) / kLeavesPerService;
  std::vector<std::string> out;
  for (int64_t i = 0; i < n; ++i, ++seq) out.push_back(ServicePath(seq % services) + fmt::format("/new-{:010d}", seq));
  return out;
}

void ApplyAll(SharedTree& st, const std::vector<txn::Txn>& txns) {
  for (const txn::Txn& t : txns) {
    txn::ApplyResult r = txn::Apply(st.tree, t);
    benchmark::DoNotOptimize(r);
  }
}

std::vector<txn::Txn> Creates(SharedTree& st, const std::vector<std::string>& paths) {
  std::vector<txn::Txn> out;
  const std::string data = Payload(100);
  for (const std::string& p : paths) out.push_back(CreateTxn(p, data, ++st.zxid));
  return out;
}

std::vector<txn::Txn> Deletes(SharedTree& st, const std::vector<std::string>& paths) {
  std::vector<txn::Txn> out;
  for (const std::string& p : paths) out.push_back(DeleteTxn(p, ++st.zxid));
  return out;
}

void Create(benchmark::State& state) {
  SharedTree& st = TreeOfSize(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    const std::vector<std::string> paths = NewPaths(st, kBatch);
    const std::vector<txn::Txn> creates = Creates(st, paths);
    state.ResumeTiming();
    ApplyAll(st, creates);
    state.PauseTiming();
    ApplyAll(st, Deletes(st, paths));
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void Delete(benchmark::State& state) {
  SharedTree& st = TreeOfSize(state.range(0));
  for (auto _ : state) {
    state.PauseTiming();
    const std::vector<std::string> paths = NewPaths(st, kBatch);
    ApplyAll(st, Creates(st, paths));
    const std::vector<txn::Txn> deletes = Deletes(st, paths);
    state.ResumeTiming();
    ApplyAll(st, deletes);
  }
  state.SetItemsProcessed(state.iterations() * kBatch);
}

void SetData(benchmark::State& state) {
  SharedTree& st = TreeOfSize(state.range(0));
  std::vector<txn::Txn> txns;
  const std::string data = Payload(100);
  for (int64_t i : RandomLeaves(st.leaves, 4096)) txns.push_back(SetDataTxn(LeafPath(i), data, 1, 0));
  size_t next = 0;
  for (auto _ : state) {
    txn::Txn& t = txns[next++ % txns.size()];
    t.zxid = ++st.zxid;
    txn::ApplyResult r = txn::Apply(st.tree, t);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void RunReads(benchmark::State& state, const tree::DataTree& tree, const std::vector<proto::Request>& reqs) {
  const txn::SessionCtx ctx = Reader();
  if (txn::ProcessRead(tree, reqs.front(), ctx).err != proto::Err::kOk) {
    Fail(state, "the read fails");
    return;
  }
  size_t next = 0;
  for (auto _ : state) {
    txn::ReadOutcome r = txn::ProcessRead(tree, reqs[next++ % reqs.size()], ctx);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

template <typename Body>
std::vector<proto::Request> LookupRequests(const SharedTree& st, proto::OpCode op) {
  std::vector<proto::Request> reqs;
  for (int64_t i : RandomLeaves(st.leaves, kLookupPaths)) {
    proto::Request r;
    r.header = {1, static_cast<int32_t>(op)};
    r.body = Body{LeafPath(i), false};
    reqs.push_back(std::move(r));
  }
  return reqs;
}

void GetData(benchmark::State& state) {
  const SharedTree& st = TreeOfSize(state.range(0));
  RunReads(state, st.tree, LookupRequests<proto::GetDataRequest>(st, proto::OpCode::kGetData));
}

void Exists(benchmark::State& state) {
  const SharedTree& st = TreeOfSize(state.range(0));
  RunReads(state, st.tree, LookupRequests<proto::ExistsRequest>(st, proto::OpCode::kExists));
}

void Find(benchmark::State& state) {
  const SharedTree& st = TreeOfSize(state.range(0));
  std::vector<std::string> paths;
  for (int64_t i : RandomLeaves(st.leaves, kLookupPaths)) paths.push_back(LeafPath(i));
  size_t next = 0;
  for (auto _ : state) {
    const tree::Node* n = st.tree.Find(paths[next++ % paths.size()]);
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations());
}

// Restart's critical path: a snapshot's nodes entering a fresh tree in
// pre-order through DataTree::LoadNode (/app, its services, their leaves of
// 100 B), as storage's loader calls it. Per node; building and destroying
// the tree are not timed.
void LoadNode(benchmark::State& state) {
  const int64_t leaves = state.range(0);
  const std::string data = Payload(100);
  const proto::AclList acl = OpenAcl();
  tree::StatPersisted stat;
  stat.czxid = stat.mzxid = stat.pzxid = 42;
  stat.ctime = stat.mtime = 1764558000000;
  std::vector<std::string> names;
  for (int64_t i = 0; i < kLeavesPerService; ++i) names.push_back(fmt::format("node-{:010d}", i));
  for (auto _ : state) {
    state.PauseTiming();
    auto t = std::make_unique<tree::DataTree>();
    state.ResumeTiming();
    const tree::Node* app = t->LoadNode(t->Root(), "app", stat, tree::NodeKind::kPersistent, "", false, acl);
    const tree::Node* service = nullptr;
    for (int64_t i = 0; i < leaves; ++i) {
      if (i % kLeavesPerService == 0) {
        const std::string name = fmt::format("service-{}", i / kLeavesPerService);
        service = t->LoadNode(app, name, stat, tree::NodeKind::kPersistent, "", false, acl);
      }
      benchmark::DoNotOptimize(t->LoadNode(service, names[static_cast<size_t>(i % kLeavesPerService)], stat,
                                           tree::NodeKind::kPersistent, data, false, acl));
    }
    state.PauseTiming();
    t.reset();
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * leaves);
}

// A tree whose /app/wide has `children` children (names as in LeafPath).
const tree::DataTree& WideTree(int64_t children) {
  static std::map<int64_t, std::unique_ptr<tree::DataTree>> cache;
  std::unique_ptr<tree::DataTree>& slot = cache[children];
  if (slot != nullptr) return *slot;
  slot = std::make_unique<tree::DataTree>();
  int64_t zxid = 0;
  txn::Apply(*slot, CreateTxn("/app", "", ++zxid));
  txn::Apply(*slot, CreateTxn("/app/wide", "", ++zxid));
  for (int64_t i = 0; i < children; ++i)
    txn::Apply(*slot, CreateTxn(fmt::format("/app/wide/node-{:010d}", i), "", ++zxid));
  return *slot;
}

void GetChildren(benchmark::State& state) {
  const int64_t children = state.range(0);
  proto::Request req;
  req.header = {1, static_cast<int32_t>(proto::OpCode::kGetChildren)};
  req.body = proto::GetChildrenRequest{"/app/wide", false};
  RunReads(state, WideTree(children), {req});
  state.counters["children_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations() * children), benchmark::Counter::kIsRate);
}

}  // namespace

void RegisterTree(const Scale& s) {
  const std::vector<int64_t> sizes = s.Pick({1000, 100000, 1000000});
  Register("tree/create", Create, "nodes", sizes);
  Register("tree/delete", Delete, "nodes", sizes);
  Register("tree/set_data", SetData, "nodes", sizes);
  Register("tree/get_data", GetData, "nodes", sizes);
  Register("tree/exists", Exists, "nodes", sizes);
  Register("tree/find", Find, "nodes", sizes);
  Register("tree/load_node", LoadNode, "nodes", sizes);
  Register("tree/get_children", GetChildren, "children", s.Pick({10, 1000, 100000}));
}

}  // namespace aviary::microbench
