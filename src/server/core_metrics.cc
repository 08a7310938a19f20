// The core's part of the metrics (issue 9, metrics/server_metrics.h): what
// only the core thread sees — mntr's gauges for /metrics, bytes read and
// written per top-level namespace, watchers fired per event, propagation
// latency. Latency and byte counters are fed in core_output.cc.
#include "admin/four_letter.h"
#include "admin/mntr.h"
#include "metrics/server_metrics.h"
#include "server/core_state.h"

namespace aviary::server {

namespace {

// ZooKeeper's DataTree.STAT_OVERHEAD_BYTES, counted in every read.
constexpr int64_t kStatOverheadBytes = 6 * 8 + 5 * 4;

// PathUtils.getTopNamespace: "a" for "/a" and "/a/b"; none for "/".
std::string_view TopNamespace(std::string_view path) {
  if (path.size() < 2 || path[0] != '/') return {};
  std::string_view rest = path.substr(1);
  return rest.substr(0, rest.find('/'));
}

void CountWrite(const std::string& path, size_t data_bytes) {
  std::string_view ns = TopNamespace(path);
  if (ns.empty()) return;
  metrics::Server().write_per_namespace.Get(ns).Add(static_cast<int64_t>(path.size() + data_bytes));
}

void CountWriteOp(const txn::Op& op) {
  if (const auto* c = std::get_if<txn::CreateTxn>(&op.body)) return CountWrite(c->path, c->data.size());
  if (const auto* d = std::get_if<txn::DeleteTxn>(&op.body)) return CountWrite(d->path, 0);
  if (const auto* s = std::get_if<txn::SetDataTxn>(&op.body)) return CountWrite(s->path, s->data.size());
}

}  // namespace

std::vector<metrics::Sample> Core::MetricsGauges(int64_t now_ms) {
  admin::ServerSnapshot s = Snapshot(0, admin::kPartStats | admin::kPartFds, now_ms);
  if (!s.serving) return {};  // as ZooKeeper: its server gauges exist only while it serves
  return admin::MntrGauges(s);
}

void Core::CountApplied(const txn::Txn& t, int64_t wall_ms) {
  if (t.type == proto::OpCode::kMulti) {
    for (const txn::Op& op : t.multi) CountWriteOp(op);
  } else {
    CountWriteOp(t.op);
  }
  if (t.time_ms > 0) metrics::Server().propagation_latency.Add(std::max<int64_t>(0, wall_ms - t.time_ms));
}

void Core::CountRead(const proto::Request& req, const proto::ResponseBody& body) {
  std::string_view path;
  int64_t bytes = 0;
  if (const auto* g = std::get_if<proto::GetDataRequest>(&req.body)) {
    path = g->path;
    if (const auto* r = std::get_if<proto::GetDataResponse>(&body)) bytes = static_cast<int64_t>(r->data.size());
  } else if (const auto* e = std::get_if<proto::ExistsRequest>(&req.body)) {
    path = e->path;
  } else if (const auto* c = std::get_if<proto::GetChildrenRequest>(&req.body)) {
    path = c->path;
    const std::vector<std::string>* kids = nullptr;
    if (const auto* r = std::get_if<proto::GetChildrenResponse>(&body)) kids = &r->children;
    if (const auto* r = std::get_if<proto::GetChildren2Response>(&body)) kids = &r->children;
    if (kids != nullptr) {
      for (const std::string& k : *kids) bytes += static_cast<int64_t>(k.size());
    }
  }
  CountReadBytes(path, bytes);
}

void Core::CountReadBytes(std::string_view path, int64_t bytes) {
  std::string_view ns = TopNamespace(path);
  if (ns.empty()) return;
  metrics::Server().read_per_namespace.Get(ns).Add(static_cast<int64_t>(path.size()) + bytes + kStatOverheadBytes);
}

void Core::CountWatchesFired(proto::EventType type, size_t watchers) {
  if (watchers == 0) return;  // as ZooKeeper's WatchManager: only a trigger that fired counts
  metrics::ServerMetrics& m = metrics::Server();
  const auto n = static_cast<int64_t>(watchers);
  switch (type) {
    case proto::EventType::kNodeCreated:
      return m.node_created_watch_count.Add(n);
    case proto::EventType::kNodeDeleted:
      return m.node_deleted_watch_count.Add(n);
    case proto::EventType::kNodeDataChanged:
      return m.node_changed_watch_count.Add(n);
    case proto::EventType::kNodeChildrenChanged:
      return m.node_children_watch_count.Add(n);
    default:
      return;
  }
}

}  // namespace aviary::server
