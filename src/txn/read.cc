#include "txn/read.h"

#include <algorithm>

#include "txn/acl.h"

namespace aviary::txn {
namespace {

using proto::Err;
using proto::OpCode;

ReadOutcome Fail(Err e) { return ReadOutcome{e, proto::Empty{}}; }

// Encoded sizes of jute records, to bound a reply before building it.
constexpr size_t kStatBytes = 68;
constexpr size_t kMultiHeaderBytes = 9;  // MultiHeader{type, done, err}

template <typename Names>
size_t ListBytes(const Names& names) {
  size_t n = 4;
  for (std::string_view s : names) n += 4 + s.size();
  return n;
}

// The reply's error when a body of `body_bytes` would not fit.
bool TooBig(size_t body_bytes, size_t max_reply_bytes) {
  return max_reply_bytes < kReplyHeaderBytes || body_bytes > max_reply_bytes - kReplyHeaderBytes;
}

// Finds `path` and checks `perm`; nullptr with *err set on failure.
const tree::Node* Readable(const tree::DataTree& t, const std::string& path, int32_t perm, const SessionCtx& ctx,
                           Err* err) {
  const tree::Node* n = t.Find(path);
  if (n == nullptr) {
    *err = Err::kNoNode;
    return nullptr;
  }
  if (!CheckPermission(t.AclOf(*n), perm, ctx)) {
    *err = Err::kNoAuth;
    return nullptr;
  }
  *err = Err::kOk;
  return n;
}

std::vector<std::string> Children(const tree::Node& n) { return {n.children().begin(), n.children().end()}; }

// Java String.trim(): strips chars <= ' ' at both ends.
std::string_view JavaTrim(std::string_view s) {
  while (!s.empty() && static_cast<unsigned char>(s.front()) <= ' ') s.remove_prefix(1);
  while (!s.empty() && static_cast<unsigned char>(s.back()) <= ' ') s.remove_suffix(1);
  return s;
}

ReadOutcome GetAcl(const tree::DataTree& t, const std::string& path, const SessionCtx& ctx) {
  Err err;
  const tree::Node* n = Readable(t, path, proto::perms::kRead | proto::perms::kAdmin, ctx, &err);
  if (n == nullptr) return Fail(err);
  proto::GetAclResponse r{t.AclOf(*n), tree::ToStat(*n)};
  if (!CheckPermission(r.acl, proto::perms::kAdmin, ctx)) {
    for (proto::Acl& a : r.acl) {
      if (a.id.scheme != "digest") continue;
      // replaceAll(":.*", ":x"): from the first ':' on (up to a newline).
      const size_t colon = a.id.id.find(':');
      if (colon == std::string::npos) continue;
      const size_t nl = a.id.id.find_first_of("\r\n", colon);
      a.id.id = a.id.id.substr(0, colon) + ":x" + (nl == std::string::npos ? "" : a.id.id.substr(nl));
    }
  }
  return ReadOutcome{Err::kOk, std::move(r)};
}

// Each result is sized before its data is copied: the reply grows only up
// to `max_reply_bytes`, however many ops ask for the same large node.
ReadOutcome MultiRead(const tree::DataTree& t, const proto::MultiRequest& m, const SessionCtx& ctx,
                      size_t max_reply_bytes) {
  proto::MultiResponse resp;
  size_t bytes = kMultiHeaderBytes;  // the closing header
  for (const proto::MultiOp& op : m.ops) {
    proto::MultiResult res;
    Err err = Err::kOk;
    const tree::Node* n = nullptr;
    if (op.type == OpCode::kGetChildren && std::holds_alternative<proto::GetChildrenRequest>(op.body)) {
      n = Readable(t, std::get<proto::GetChildrenRequest>(op.body).path, proto::perms::kRead, ctx, &err);
    } else if (op.type == OpCode::kGetData && std::holds_alternative<proto::GetDataRequest>(op.body)) {
      n = Readable(t, std::get<proto::GetDataRequest>(op.body).path, proto::perms::kRead, ctx, &err);
    } else {
      return Fail(Err::kMarshallingError);
    }
    if (n == nullptr) {
      bytes += kMultiHeaderBytes + 4;
    } else if (op.type == OpCode::kGetChildren) {
      bytes += kMultiHeaderBytes + ListBytes(n->children());
    } else {
      bytes += kMultiHeaderBytes + 4 + n->data.size() + kStatBytes;
    }
    if (TooBig(bytes, max_reply_bytes)) return Fail(Err::kMarshallingError);
    if (n == nullptr) {
      res.type = OpCode::kError;
      res.err = static_cast<int32_t>(err);
    } else if (op.type == OpCode::kGetChildren) {
      res.type = OpCode::kGetChildren;
      res.children = Children(*n);
    } else {
      res.type = OpCode::kGetData;
      res.data = n->data;
      res.data_null = n->data_null;
      res.stat = tree::ToStat(*n);
    }
    resp.results.push_back(std::move(res));
  }
  return ReadOutcome{Err::kOk, std::move(resp)};
}

}  // namespace

const tree::Node* GetDataNode(const tree::DataTree& t, const proto::GetDataRequest& req, const SessionCtx& ctx,
                              size_t max_reply_bytes, Err* err) {
  const tree::Node* n = Readable(t, req.path, proto::perms::kRead, ctx, err);
  if (n != nullptr && TooBig(4 + n->data.size() + kStatBytes, max_reply_bytes)) {
    *err = Err::kMarshallingError;
    return nullptr;
  }
  return n;
}

ReadOutcome ProcessRead(const tree::DataTree& t, const proto::Request& req, const SessionCtx& ctx,
                        size_t max_reply_bytes) {
  Err err = Err::kOk;
  switch (req.op()) {
    case OpCode::kExists: {
      const auto* r = std::get_if<proto::ExistsRequest>(&req.body);
      if (r == nullptr) return Fail(Err::kMarshallingError);
      if (r->path.find('\0') != std::string::npos) return Fail(Err::kBadArguments);
      // READ on an existing node (ZOOKEEPER-2590, ZooKeeper 3.8.4 / 3.9.2).
      const tree::Node* n = Readable(t, r->path, proto::perms::kRead, ctx, &err);
      if (n == nullptr) return Fail(err);
      return ReadOutcome{Err::kOk, proto::StatResponse{tree::ToStat(*n)}};
    }
    case OpCode::kGetData: {
      const auto* r = std::get_if<proto::GetDataRequest>(&req.body);
      if (r == nullptr) return Fail(Err::kMarshallingError);
      const tree::Node* n = GetDataNode(t, *r, ctx, max_reply_bytes, &err);
      if (n == nullptr) return Fail(err);
      return ReadOutcome{Err::kOk, proto::GetDataResponse{std::string(n->data), tree::ToStat(*n), n->data_null}};
    }
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2: {
      const auto* r = std::get_if<proto::GetChildrenRequest>(&req.body);
      if (r == nullptr) return Fail(Err::kMarshallingError);
      const tree::Node* n = Readable(t, r->path, proto::perms::kRead, ctx, &err);
      if (n == nullptr) return Fail(err);
      if (TooBig(ListBytes(n->children()) + kStatBytes, max_reply_bytes)) return Fail(Err::kMarshallingError);
      if (req.op() == OpCode::kGetChildren) return ReadOutcome{Err::kOk, proto::GetChildrenResponse{Children(*n)}};
      return ReadOutcome{Err::kOk, proto::GetChildren2Response{Children(*n), tree::ToStat(*n)}};
    }
    case OpCode::kGetAcl: {
      const auto* r = std::get_if<proto::GetAclRequest>(&req.body);
      if (r == nullptr) return Fail(Err::kMarshallingError);
      return GetAcl(t, r->path, ctx);
    }
    case OpCode::kGetAllChildrenNumber: {
      const auto* r = std::get_if<proto::GetAllChildrenNumberRequest>(&req.body);
      if (r == nullptr) return Fail(Err::kMarshallingError);
      if (Readable(t, r->path, proto::perms::kRead, ctx, &err) == nullptr) return Fail(err);
      return ReadOutcome{Err::kOk, proto::GetAllChildrenNumberResponse{t.DescendantCount(r->path)}};
    }
    case OpCode::kGetEphemerals: {
      const auto* r = std::get_if<proto::GetEphemeralsRequest>(&req.body);
      if (r == nullptr) return Fail(Err::kMarshallingError);
      std::vector<std::string> all = t.EphemeralsOf(ctx.session_id);
      const std::string_view trimmed = JavaTrim(r->prefixPath);
      if (!trimmed.empty() && trimmed != "/") {
        std::erase_if(all, [&](const std::string& p) { return !p.starts_with(r->prefixPath); });
      }
      if (TooBig(ListBytes(all), max_reply_bytes)) return Fail(Err::kMarshallingError);
      return ReadOutcome{Err::kOk, proto::GetEphemeralsResponse{std::move(all)}};
    }
    case OpCode::kMultiRead: {
      const auto* m = std::get_if<proto::MultiRequest>(&req.body);
      if (m == nullptr) return Fail(Err::kMarshallingError);
      return MultiRead(t, *m, ctx, max_reply_bytes);
    }
    default:
      return Fail(Err::kUnimplemented);
  }
}

}  // namespace aviary::txn
