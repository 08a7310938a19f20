// `import [--force] file [path]`: recreates an exported subtree (format in
// docs/CLI.md) under `path` (default: the exported root). Missing parents
// are created; an existing node makes it refuse before writing anything,
// unless --force, which then overwrites that node's data and ACL.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "cli.h"
#include "client/connect_string.h"
#include "json_util.h"

namespace aviary::cli {

using nlohmann::json;
using proto::Err;
using proto::OpCode;

namespace {

struct Node {
  std::string path;
  proto::CreateRequest create;
  OpCode op = OpCode::kCreate2;
};

bool ReadNode(const json& j, const std::string& dest, Node* n, std::string* error) {
  std::string rel = j.value("path", "");
  n->path = rel.empty() ? dest : (dest == "/" ? "" : dest) + rel;
  if (std::string why = client::ValidatePath(n->path); !why.empty()) return *error = n->path + ": " + why, false;
  auto& c = n->create;
  c.path = n->path;
  if (j.contains("data") && j["data"].is_string()) {
    c.data = j["data"].get<std::string>();
  } else if (!Base64Decode(j.value("data_base64", ""), &c.data)) {
    return *error = n->path + ": bad data_base64", false;
  }
  c.data_null = j.value("data_null", false);
  for (const auto& a : j.value("acl", json::array())) {
    std::string text = a.value("scheme", "") + ":" + a.value("id", "") + ":" + a.value("perms", "");
    proto::AclList one = ParseAcl(text);
    c.acl.insert(c.acl.end(), one.begin(), one.end());
  }
  if (c.acl.empty()) c.acl = OpenAcl();
  std::string mode = j.value("mode", "persistent");
  if (mode == "container") {
    c.flags = static_cast<int32_t>(proto::CreateMode::kContainer);
    n->op = OpCode::kCreateContainer;
  } else if (mode == "ttl") {
    c.flags = static_cast<int32_t>(proto::CreateMode::kPersistentWithTtl);
    c.ttl = j.value("ttl", int64_t{0});
    n->op = OpCode::kCreateTtl;
  } else if (mode != "persistent") {
    return *error = n->path + ": unknown mode " + mode, false;
  }
  return true;
}

bool ReadFile(Context& ctx, const std::string& file, std::string dest, std::vector<Node>* nodes) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!in || doc.is_discarded() || doc.value("format", "") != "aviary-export" || !doc["nodes"].is_array()) {
    return Fail(ctx, file + ": not an aviary export file") == kOk;
  }
  if (dest.empty()) dest = doc.value("root", "/");
  for (const auto& j : doc["nodes"]) {
    Node n;
    std::string error;
    if (!j.is_object() || !ReadNode(j, dest, &n, &error)) return Fail(ctx, file + ": " + error) == kOk;
    nodes->push_back(std::move(n));
  }
  return true;
}

bool Exists(Context& ctx, const std::string& path) {
  return Call(ctx, OpCode::kExists, proto::ExistsRequest{path, false}).err == Err::kOk;
}

// True when the node already has exactly `acl` (then no setAcl is needed,
// which also lets --force update nodes whose ACL lacks ADMIN).
bool SameAcl(Context& ctx, const std::string& path, proto::AclList acl) {
  auto r = Call(ctx, OpCode::kGetAcl, proto::GetAclRequest{path});
  if (r.err != Err::kOk) return false;
  auto have = std::get<proto::GetAclResponse>(r.body).acl;
  auto key = [](const proto::Acl& a) { return std::tie(a.id.scheme, a.id.id, a.perms); };
  auto less = [&](const proto::Acl& a, const proto::Acl& b) { return key(a) < key(b); };
  std::sort(have.begin(), have.end(), less);
  std::sort(acl.begin(), acl.end(), less);
  return have == acl;
}

}  // namespace

int ImportCmd(Context& ctx, const Args& in) {
  Args args = in;
  bool force = TakeFlag(&args, "--force") | TakeFlag(&args, "-f");
  if (args.size() < 2) return Usage(ctx, "import");
  std::string dest = args.size() >= 3 ? args[2] : "";
  if (!dest.empty()) {
    if (std::string why = client::ValidatePath(dest); !why.empty()) return Fail(ctx, why, Err::kBadArguments);
  }
  std::vector<Node> nodes;
  try {
    if (!ReadFile(ctx, args[1], dest, &nodes)) return kFailed;
  } catch (const json::exception& e) {  // a field of the wrong type
    return Fail(ctx, args[1] + ": not an aviary export file (" + e.what() + ")");
  }
  if (nodes.empty()) return Fail(ctx, args[1] + ": no nodes");
  if (!force) {
    for (const auto& n : nodes) {
      if (Exists(ctx, n.path))
        return Fail(ctx, "Node already exists: " + n.path + " (import refuses to overwrite; use --force)",
                    Err::kNodeExists);
    }
  }
  const std::string& top = nodes.front().path;
  for (size_t at = 1; (at = top.find('/', at)) != std::string::npos; at++) {
    proto::CreateRequest parent{top.substr(0, at), "", OpenAcl(), 0, -1, true};
    auto r = Call(ctx, OpCode::kCreate2, parent);
    if (r.err != Err::kOk && r.err != Err::kNodeExists) return FailErr(ctx, r.err, parent.path);
  }
  size_t created = 0, updated = 0;
  for (const auto& n : nodes) {
    auto r = Call(ctx, n.op, n.create);
    if (r.err == Err::kNodeExists && force) {
      r = Call(ctx, OpCode::kSetData, proto::SetDataRequest{n.path, n.create.data, -1, n.create.data_null});
      if (r.err == Err::kOk && !SameAcl(ctx, n.path, n.create.acl)) {
        r = Call(ctx, OpCode::kSetAcl, proto::SetAclRequest{n.path, n.create.acl, -1});
      }
      if (r.err == Err::kOk) updated++;
    } else if (r.err == Err::kOk) {
      created++;
    }
    if (r.err != Err::kOk) return FailErr(ctx, r.err, n.path);
  }
  if (ctx.json) {
    EmitJson({{"path", top}, {"created", created}, {"updated", updated}});
  } else {
    std::printf("Imported %zu nodes to %s (%zu created, %zu updated)\n", created + updated, top.c_str(), created,
                updated);
  }
  return kOk;
}

}  // namespace aviary::cli
