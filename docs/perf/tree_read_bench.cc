// Read CPU per op on a tree of 1000 parents x 1000 children of 100 B:
// getData / exists / getChildren(small parent) via txn::ProcessRead, and
// CreateNode throughput; also the process RSS growth per node.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tree/data_tree.h"
#include "txn/read.h"

using namespace aviary;

static long RssKb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}
static double CpuNs() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

int main() {
  const proto::AclList open = {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}};
  tree::DataTree t;
  const std::string payload(100, 'x');
  long rss0 = RssKb();
  double c0 = CpuNs();
  std::vector<std::string> paths;
  int64_t zxid = 1;
  for (int p = 0; p < 1000; ++p) {
    std::string parent = "/bench-p" + std::to_string(p);
    t.CreateNode(parent, "", open, tree::NodeKind::kPersistent, 0, 0, -1, zxid++, 1000);
    for (int c = 0; c < 1000; ++c) {
      char name[32];
      std::snprintf(name, sizeof name, "/n-%010d", c);
      std::string path = parent + name;
      t.CreateNode(path, payload, open, tree::NodeKind::kPersistent, 0, 0, -1, zxid++, 1000);
      if (c % 10 == 0) paths.push_back(path);
    }
  }
  double create_ns = (CpuNs() - c0) / 1001000;
  long rss1 = RssKb();
  std::printf("create_cpu_ns_per_node %.0f rss_bytes_per_node %.1f\n", create_ns, (rss1 - rss0) * 1024.0 / 1001000);
  std::mt19937 rng(1);
  std::shuffle(paths.begin(), paths.end(), rng);
  txn::SessionCtx ctx;
  auto run = [&](const char* name, auto make) {
    proto::Request req = make(paths[0]);
    double best = 1e18;
    for (int rep = 0; rep < 5; ++rep) {
      double s = CpuNs();
      size_t ok = 0;
      for (int i = 0; i < 1000000; ++i) {
        const std::string& p = paths[i % paths.size()];
        std::visit(
            [&](auto& b) {
              if constexpr (requires { b.path; }) b.path = p;
            },
            req.body);
        ok += txn::ProcessRead(t, req, ctx).err == proto::Err::kOk;
      }
      double ns = (CpuNs() - s) / 1e6;
      if (ok != 1000000) std::printf("errors!\n");
      best = std::min(best, ns);
    }
    std::printf("%s_cpu_ns_per_op %.0f\n", name, best);
  };
  run("get", [](const std::string& p) {
    proto::Request r;
    r.header.type = static_cast<int32_t>(proto::OpCode::kGetData);
    r.body = proto::GetDataRequest{p, false};
    return r;
  });
  run("exists", [](const std::string& p) {
    proto::Request r;
    r.header.type = static_cast<int32_t>(proto::OpCode::kExists);
    r.body = proto::ExistsRequest{p, false};
    return r;
  });
  // getChildren of a leaf's parent (1000 children): fewer reps.
  {
    proto::Request r;
    r.header.type = static_cast<int32_t>(proto::OpCode::kGetChildren2);
    r.body = proto::GetChildrenRequest{"/bench-p7", false};
    double best = 1e18;
    for (int rep = 0; rep < 5; ++rep) {
      double s = CpuNs();
      for (int i = 0; i < 2000; ++i) txn::ProcessRead(t, r, ctx);
      best = std::min(best, (CpuNs() - s) / 2000);
    }
    std::printf("getChildren1000_cpu_ns_per_op %.0f\n", best);
  }
  // Full-tree walk (digest / snapshot style).
  double s = CpuNs();
  size_t n = 0;
  t.ForEach([&](const std::string& path, const tree::Node&) { n += path.size(); });
  std::printf("foreach_cpu_ms %.1f (%zu)\n", (CpuNs() - s) / 1e6, n);
  return 0;
}
