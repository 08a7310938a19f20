#include "setup.h"

#include <unistd.h>

#include <atomic>
#include <chrono>

#include "wire.h"

namespace aviary::bench {

using proto::OpCode;

namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

bool PrepareNodes(const Options& o, const Endpoint& ep, const std::string& payload, std::vector<std::string>* key_paths,
                  std::string* create_prefix, std::string* error) {
  SyncSession s;
  if (!s.Open(ep, o.session_timeout_ms, error)) return false;
  auto create = [&](const std::string& path, const std::string& data) {
    proto::Request r;
    r.header.type = static_cast<int32_t>(OpCode::kCreate);
    auto& b = r.body.emplace<proto::CreateRequest>();
    b.path = path;
    b.data = data;
    b.acl = OpenAcl();
    return r;
  };
  std::vector<proto::Request> reqs;
  std::vector<int32_t> errs;
  auto run = [&]() {
    if (!s.Run(reqs, 64, &errs, error)) return false;
    for (int32_t e : errs) {
      if (e != 0 && e != static_cast<int32_t>(proto::Err::kNodeExists)) {
        *error = "setup: create failed with error " + std::to_string(e);
        return false;
      }
    }
    reqs.clear();
    return true;
  };
  // Every ancestor of the root, outermost first.
  for (size_t i = o.root.find('/', 1);; i = o.root.find('/', i + 1)) {
    reqs.push_back(create(o.root.substr(0, i), ""));
    if (i == std::string::npos) break;
  }
  static std::atomic<int> run_counter{0};
  std::string parent;
  if (o.workload == Workload::kCreate) {
    parent = o.root + "/c-" + std::to_string(getpid()) + "-" + std::to_string(NowMs() % 100000000) + "-" +
             std::to_string(run_counter++);
    *create_prefix = parent + "/n-";
  } else {
    parent = o.root + "/keys-" + std::to_string(o.payload);
  }
  reqs.push_back(create(parent, ""));
  if (!run()) return false;
  if (o.workload == Workload::kCreate) return true;
  for (int i = 0; i < o.keys; i++) {
    key_paths->push_back(parent + "/k" + std::to_string(i));
    reqs.push_back(create(key_paths->back(), payload));
  }
  return run();
}

}  // namespace aviary::bench
