#include "requests.h"

#include <charconv>

#include "proto/codec.h"
#include "wire.h"

namespace aviary::bench {

using proto::OpCode;

namespace {

uint64_t Next(Conn& c) {
  c.rng ^= c.rng << 13;
  c.rng ^= c.rng >> 7;
  c.rng ^= c.rng << 17;
  return c.rng;
}

const std::string& RandomKey(const Plan& plan, Conn& c) { return plan.key_paths[Next(c) % plan.key_paths.size()]; }

void AppendInt(std::string* out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, r.ptr);
}

template <typename Body>
Body& Init(proto::Request* r, OpCode op) {
  r->header.type = static_cast<int32_t>(op);
  return r->body.emplace<Body>();
}

}  // namespace

void NodePath(const Plan& plan, int conn, int64_t n, std::string* out) {
  out->assign(plan.parent);
  out->append("/c");
  AppendInt(out, conn);
  out->push_back('-');
  AppendInt(out, n);
}

void InitRequests(const Plan& plan, Conn* c) {
  Init<proto::GetDataRequest>(&c->get, OpCode::kGetData);
  Init<proto::ExistsRequest>(&c->exists, OpCode::kExists);
  Init<proto::SetDataRequest>(&c->set, OpCode::kSetData).data = plan.payload;
  auto& cr = Init<proto::CreateRequest>(&c->create, OpCode::kCreate);
  cr.data = plan.payload;
  cr.acl = OpenAcl();
  cr.flags = plan.workload == Workload::kCreate ? 2 : 0;  // PERSISTENT_SEQUENTIAL : PERSISTENT
  Init<proto::DeleteRequest>(&c->del, OpCode::kDelete).version = -1;
  Init<proto::GetChildrenRequest>(&c->children, OpCode::kGetChildren2).path = plan.parent;
  auto& m = Init<proto::MultiRequest>(&c->multi, OpCode::kMulti);
  m.ops.resize(static_cast<size_t>(plan.multi_ops));
  for (auto& op : m.ops) {
    op.type = OpCode::kSetData;
    auto& s = op.body.emplace<proto::SetDataRequest>();
    s.data = plan.payload;
    s.version = -1;
  }
  std::get<proto::SetDataRequest>(c->set.body).version = -1;
}

namespace {

proto::Request* Pick(Plan& plan, Conn& c, Slot* slot) {
  switch (plan.workload) {
    case Workload::kGet:
      std::get<proto::GetDataRequest>(c.get.body).path.assign(RandomKey(plan, c));
      return &c.get;
    case Workload::kExists:
      std::get<proto::ExistsRequest>(c.exists.body).path.assign(RandomKey(plan, c));
      return &c.exists;
    case Workload::kMixed:
    case Workload::kSweep:
      if (static_cast<int>(Next(c) % 100) < plan.read_pct) {
        std::get<proto::GetDataRequest>(c.get.body).path.assign(RandomKey(plan, c));
        return &c.get;
      }
      [[fallthrough]];
    case Workload::kSet:
      std::get<proto::SetDataRequest>(c.set.body).path.assign(RandomKey(plan, c));
      return &c.set;
    case Workload::kCreate: {
      slot->aux = static_cast<int64_t>((static_cast<uint64_t>(c.index) + static_cast<uint64_t>(c.seq++)) %
                                       plan.create_prefixes.size());
      std::get<proto::CreateRequest>(c.create.body).path.assign(plan.create_prefixes[static_cast<size_t>(slot->aux)]);
      return &c.create;
    }
    case Workload::kCreateDelete: {
      slot->aux = c.seq / 2;
      bool create = c.seq++ % 2 == 0;
      proto::Request* r = create ? &c.create : &c.del;
      std::string* path =
          create ? &std::get<proto::CreateRequest>(r->body).path : &std::get<proto::DeleteRequest>(r->body).path;
      NodePath(plan, c.index, slot->aux, path);
      return r;
    }
    case Workload::kDelete: {
      int64_t i = plan.delete_next.fetch_add(1, std::memory_order_relaxed);
      if (i >= static_cast<int64_t>(plan.key_paths.size())) return nullptr;
      std::get<proto::DeleteRequest>(c.del.body).path.assign(plan.key_paths[static_cast<size_t>(i)]);
      return &c.del;
    }
    case Workload::kChildren:
      return &c.children;
    case Workload::kMulti:
      for (auto& op : std::get<proto::MultiRequest>(c.multi.body).ops) {
        std::get<proto::SetDataRequest>(op.body).path.assign(RandomKey(plan, c));
      }
      return &c.multi;
    default:
      return nullptr;
  }
}

}  // namespace

bool NextRequest(Plan& plan, Conn& c, Slot* slot) {
  proto::Request* req = Pick(plan, c, slot);
  if (!req) return false;
  req->header.xid = c.next_xid++;
  if (c.next_xid <= 0) c.next_xid = 1;
  proto::EncodeRequest(*req, &c.link.out);
  slot->xid = req->header.xid;
  slot->op = req->op();
  return true;
}

}  // namespace aviary::bench
