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

// A name no other run (of this or another aviary-bench process) uses.
std::string FreshPath(const Options& o, const char* tag) {
  static std::atomic<int> run_counter{0};
  return o.root + "/" + tag + "-" + std::to_string(getpid()) + "-" + std::to_string(NowMs() % 100000000) + "-" +
         std::to_string(run_counter++);
}

proto::Request CreateReq(const std::string& path, const std::string& data) {
  proto::Request r;
  r.header.type = static_cast<int32_t>(OpCode::kCreate);
  auto& b = r.body.emplace<proto::CreateRequest>();
  b.path = path;
  b.data = data;
  b.acl = OpenAcl();
  return r;
}

// Runs the creates; NodeExists counts as success.
bool CreateAll(SyncSession& s, std::vector<proto::Request>* reqs, std::string* error) {
  std::vector<int32_t> errs;
  if (!s.Run(*reqs, 256, &errs, error)) return false;
  for (int32_t e : errs) {
    if (e != 0 && e != static_cast<int32_t>(proto::Err::kNodeExists)) {
      *error = "setup: create failed with error " + std::to_string(e);
      return false;
    }
  }
  reqs->clear();
  return true;
}

}  // namespace

bool PrepareNodes(const Options& o, const Endpoint& ep, const std::string& payload, Plan* plan, std::string* error) {
  SyncSession s;
  if (!s.Open(ep, o.session_timeout_ms, error)) return false;
  std::vector<proto::Request> reqs;
  // Every ancestor of the root, outermost first.
  for (size_t i = o.root.find('/', 1);; i = o.root.find('/', i + 1)) {
    reqs.push_back(CreateReq(o.root.substr(0, i), ""));
    if (i == std::string::npos) break;
  }
  auto child = [&](const std::string& parent, const char* prefix, int64_t n, const std::string& data) {
    reqs.push_back(CreateReq(parent + "/" + prefix + std::to_string(n), data));
    return std::get<proto::CreateRequest>(reqs.back().body).path;
  };
  switch (o.workload) {
    case Workload::kCreate:
      plan->parent = FreshPath(o, "c");
      reqs.push_back(CreateReq(plan->parent, ""));
      for (int i = 0; i < o.parents; i++) plan->create_prefixes.push_back(child(plan->parent, "p", i, "") + "/n-");
      break;
    case Workload::kCreateDelete:
    case Workload::kChurn:
      plan->parent = FreshPath(o, o.workload == Workload::kChurn ? "churn" : "cd");
      reqs.push_back(CreateReq(plan->parent, ""));
      break;
    case Workload::kDelete:
      plan->parent = FreshPath(o, "d");
      reqs.push_back(CreateReq(plan->parent, ""));
      for (int64_t i = 0; i < (o.ops > 0 ? o.ops : o.keys); i++) {
        plan->key_paths.push_back(child(plan->parent, "k", i, payload));
        if (reqs.size() >= 65536 && !CreateAll(s, &reqs, error)) return false;
      }
      break;
    case Workload::kChildren:
      plan->parent = o.root + "/children-" + std::to_string(o.children);
      reqs.push_back(CreateReq(plan->parent, ""));
      for (int i = 0; i < o.children; i++) child(plan->parent, "c", i, "");
      break;
    case Workload::kWatch:
      plan->parent = FreshPath(o, "w");
      reqs.push_back(CreateReq(plan->parent, payload));
      break;
    case Workload::kSessions:
      break;
    default: {
      std::string parent = o.root + "/keys-" + std::to_string(o.payload);
      reqs.push_back(CreateReq(parent, ""));
      for (int i = 0; i < o.keys; i++) plan->key_paths.push_back(child(parent, "k", i, payload));
      break;
    }
  }
  return CreateAll(s, &reqs, error);
}

namespace {

bool ListChildren(SyncSession& s, const std::string& path, std::vector<std::string>* out, std::string* error) {
  proto::Request r;
  r.header.type = static_cast<int32_t>(OpCode::kGetChildren2);
  r.body.emplace<proto::GetChildrenRequest>().path = path;
  proto::ReplyHeader hdr;
  proto::ResponseBody body;
  if (!s.Call(r, &hdr, &body, error)) return false;
  auto* b = std::get_if<proto::GetChildren2Response>(&body);
  if (hdr.err != 0 || !b) {
    *error = "getChildren " + path + " failed with error " + std::to_string(hdr.err);
    return false;
  }
  *out = std::move(b->children);
  return true;
}

}  // namespace

bool DeleteChildren(const Options& o, const Endpoint& ep, const std::string& path, std::string* error) {
  SyncSession s;
  std::vector<std::string> children;
  if (!s.Open(ep, o.session_timeout_ms, error) || !ListChildren(s, path, &children, error)) return false;
  std::vector<proto::Request> reqs;
  for (const auto& c : children) {
    reqs.emplace_back().header.type = static_cast<int32_t>(OpCode::kDelete);
    reqs.back().body.emplace<proto::DeleteRequest>().path = path + "/" + c;
  }
  std::vector<int32_t> errs;
  return s.Run(reqs, 256, &errs, error);
}

int64_t CountChildren(const Options& o, const Endpoint& ep, const std::string& path, std::string* error) {
  SyncSession s;
  std::vector<std::string> children;
  if (!s.Open(ep, o.session_timeout_ms, error) || !ListChildren(s, path, &children, error)) return -1;
  return static_cast<int64_t>(children.size());
}

}  // namespace aviary::bench
