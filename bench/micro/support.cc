#include "support.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>

#include "storage/recovery.h"
#include "storage/snapshot.h"
#include "txn/apply.h"

namespace aviary::microbench {

namespace {
int failures = 0;
}  // namespace

void Fail(benchmark::State& state, const std::string& message) {
  ++failures;
  state.SkipWithError(message.c_str());
}

int Failures() { return failures; }

benchmark::internal::Benchmark* Register(const char* name, void (*fn)(benchmark::State&), const char* arg,
                                         const std::vector<int64_t>& values) {
  benchmark::internal::Benchmark* b = benchmark::RegisterBenchmark(name, fn);
  if (*arg != '\0') {
    b->ArgName(arg);
    for (int64_t v : values) b->Arg(v);
  }
  return b;
}

std::string ServicePath(int64_t service) { return fmt::format("/app/service-{}", service); }

std::string LeafPath(int64_t i) { return fmt::format("/app/service-{}/node-{:010d}", i / kLeavesPerService, i); }

std::string Payload(size_t n) {
  static const std::string kPattern = R"({"host":"10.0.17.42","port":2181,"weight":100,"zone":"eu-west-1b"},)";
  std::string s;
  s.reserve(n);
  while (s.size() < n) s.append(kPattern, 0, std::min(kPattern.size(), n - s.size()));
  return s;
}

proto::AclList OpenAcl() { return {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}; }

namespace {
txn::Txn Single(proto::OpCode type, int64_t zxid) {
  txn::Txn t;
  t.session_id = 0x1000000abcdefLL;
  t.cxid = static_cast<int32_t>(zxid);
  t.zxid = zxid;
  t.time_ms = 1764558000000 + zxid;
  t.type = type;
  t.op.type = type;
  return t;
}
}  // namespace

txn::Txn CreateTxn(const std::string& path, std::string data, int64_t zxid) {
  txn::Txn t = Single(proto::OpCode::kCreate, zxid);
  txn::CreateTxn c;
  c.path = path;
  c.data = std::move(data);
  c.acl = OpenAcl();
  c.parent_cversion = -1;  // the parent's current + 1, as Preparer computes it
  t.op.body = std::move(c);
  return t;
}

txn::Txn SetDataTxn(const std::string& path, std::string data, int32_t version, int64_t zxid) {
  txn::Txn t = Single(proto::OpCode::kSetData, zxid);
  t.op.body = txn::SetDataTxn{path, std::move(data), version, false};
  return t;
}

txn::Txn DeleteTxn(const std::string& path, int64_t zxid) {
  txn::Txn t = Single(proto::OpCode::kDelete, zxid);
  t.op.body = txn::DeleteTxn{path};
  return t;
}

namespace {
void MustApply(tree::DataTree& tree, const txn::Txn& t) {
  if (txn::Apply(tree, t).err != proto::Err::kOk) throw std::runtime_error("microbench: tree setup failed");
}

std::unique_ptr<SharedTree> BuildTree(int64_t leaves) {
  auto st = std::make_unique<SharedTree>();
  st->leaves = leaves;
  MustApply(st->tree, CreateTxn("/app", "", ++st->zxid));
  const int64_t services = (leaves + kLeavesPerService - 1) / kLeavesPerService;
  for (int64_t s = 0; s < services; ++s) MustApply(st->tree, CreateTxn(ServicePath(s), "", ++st->zxid));
  const std::string data = Payload(100);
  for (int64_t i = 0; i < leaves; ++i) MustApply(st->tree, CreateTxn(LeafPath(i), data, ++st->zxid));
  return st;
}
}  // namespace

SharedTree& TreeOfSize(int64_t nodes) {
  static std::map<int64_t, std::unique_ptr<SharedTree>> cache;
  std::unique_ptr<SharedTree>& slot = cache[nodes];
  if (slot == nullptr) slot = BuildTree(nodes);
  return *slot;
}

ScratchDir::ScratchDir() {
  const char* base = std::getenv("AVIARY_MICROBENCH_DIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/aviary-microbench-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("microbench: mkdtemp failed under " + tmpl);
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int64_t SerializeSnapshot(const tree::DataTree& tree, int64_t zxid, size_t chunk_nodes,
                          const std::function<bool(std::string_view)>& sink) {
  storage::SnapshotBuilder builder(zxid, {});
  std::string chunk;
  int64_t bytes = 0;
  bool done = false;
  while (!done) {
    chunk.clear();
    done = builder.Step(tree, chunk_nodes, &chunk);
    if (done) chunk += builder.Finish();
    bytes += static_cast<int64_t>(chunk.size());
    if (!sink(chunk)) return -1;
  }
  return bytes;
}

bool WriteSnapshot(const tree::DataTree& tree, int64_t zxid, const std::string& dir, std::string* error) {
  storage::SnapshotFileWriter writer;
  if (!writer.Begin(dir, zxid, error)) return false;
  const int64_t bytes =
      SerializeSnapshot(tree, zxid, 10000, [&](std::string_view chunk) { return writer.Write(chunk, error); });
  return bytes >= 0 && writer.Commit(error);
}

int64_t LoadSnapshot(const std::string& dir, txn::StateMachine* sm, std::string* error) {
  storage::RecoveryOptions opts;
  opts.snap_dir = dir;
  opts.log_dir = dir;
  const storage::RecoveryResult r = storage::Recover(opts, sm);
  if (!r.ok) {
    *error = r.error;
    return -1;
  }
  return static_cast<int64_t>(r.nodes_loaded);
}

}  // namespace aviary::microbench
