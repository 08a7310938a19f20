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

// What to send next: a request to encode, or a prepared frame of op `op`.
struct Choice {
  proto::Request* req = nullptr;
  std::string_view frame;
  OpCode op = OpCode::kError;
};

Choice Encode(proto::Request* r) { return {r, {}, OpCode::kError}; }

template <typename Body>
Choice Keyed(const Plan& plan, Conn& c, const FrameTable& frames, proto::Request* r, OpCode op) {
  size_t k = Next(c) % plan.key_paths.size();
  if (!frames.empty()) return {nullptr, frames.at(k), op};
  std::get<Body>(r->body).path.assign(plan.key_paths[k]);
  return {r, {}, op};
}

Choice Pick(Plan& plan, Conn& c, Slot* slot) {
  switch (plan.workload) {
    case Workload::kGet:
      return Keyed<proto::GetDataRequest>(plan, c, plan.get_frames, &c.get, OpCode::kGetData);
    case Workload::kExists:
      return Keyed<proto::ExistsRequest>(plan, c, plan.exists_frames, &c.exists, OpCode::kExists);
    case Workload::kMixed:
    case Workload::kSweep:
      if (static_cast<int>(Next(c) % 100) < plan.read_pct) {
        return Keyed<proto::GetDataRequest>(plan, c, plan.get_frames, &c.get, OpCode::kGetData);
      }
      [[fallthrough]];
    case Workload::kSet:
      return Keyed<proto::SetDataRequest>(plan, c, plan.set_frames, &c.set, OpCode::kSetData);
    case Workload::kCreate: {
      slot->aux = static_cast<int64_t>((static_cast<uint64_t>(c.index) + static_cast<uint64_t>(c.seq++)) %
                                       plan.create_prefixes.size());
      std::get<proto::CreateRequest>(c.create.body).path.assign(plan.create_prefixes[static_cast<size_t>(slot->aux)]);
      return Encode(&c.create);
    }
    case Workload::kCreateDelete: {
      slot->aux = c.seq / 2;
      bool create = c.seq++ % 2 == 0;
      proto::Request* r = create ? &c.create : &c.del;
      std::string* path =
          create ? &std::get<proto::CreateRequest>(r->body).path : &std::get<proto::DeleteRequest>(r->body).path;
      NodePath(plan, c.index, slot->aux, path);
      return Encode(r);
    }
    case Workload::kDelete: {
      int64_t i = plan.delete_next.fetch_add(1, std::memory_order_relaxed);
      if (i >= static_cast<int64_t>(plan.key_paths.size())) return {};
      std::get<proto::DeleteRequest>(c.del.body).path.assign(plan.key_paths[static_cast<size_t>(i)]);
      return Encode(&c.del);
    }
    case Workload::kChildren:
      return Encode(&c.children);
    case Workload::kMulti:
      for (auto& op : std::get<proto::MultiRequest>(c.multi.body).ops) {
        std::get<proto::SetDataRequest>(op.body).path.assign(RandomKey(plan, c));
      }
      return Encode(&c.multi);
    default:
      return {};
  }
}

// Encodes one request per key of `op` into *t, the way EncodeRequest
// would at send time (with xid 0).
template <typename Body>
void Table(const Plan& plan, proto::Request proto_req, FrameTable* t) {
  for (const std::string& key : plan.key_paths) {
    t->start.push_back(static_cast<uint32_t>(t->bytes.size()));
    std::get<Body>(proto_req.body).path = key;
    proto::EncodeRequest(proto_req, &t->bytes);
  }
  t->start.push_back(static_cast<uint32_t>(t->bytes.size()));
}

}  // namespace

void BuildFrames(Plan* plan, const Conn& proto_conn) {
  Workload w = plan->workload;
  bool gets = w == Workload::kGet || w == Workload::kMixed || w == Workload::kSweep;
  bool sets = w == Workload::kSet || w == Workload::kMixed || w == Workload::kSweep;
  size_t set_bytes = plan->key_paths.size() * (plan->payload.size() + 64);
  if (gets) Table<proto::GetDataRequest>(*plan, proto_conn.get, &plan->get_frames);
  if (w == Workload::kExists) Table<proto::ExistsRequest>(*plan, proto_conn.exists, &plan->exists_frames);
  if (sets && set_bytes <= (size_t{256} << 20)) Table<proto::SetDataRequest>(*plan, proto_conn.set, &plan->set_frames);
}

bool NextRequest(Plan& plan, Conn& c, Slot* slot) {
  Choice next = Pick(plan, c, slot);
  if (!next.req && next.frame.empty()) return false;
  int32_t xid = c.next_xid++;
  if (c.next_xid <= 0) c.next_xid = 1;
  if (next.req) {
    next.req->header.xid = xid;
    proto::EncodeRequest(*next.req, &c.link.out);
    slot->op = next.req->op();
  } else {
    size_t at = c.link.out.size();
    c.link.out.append(next.frame);
    auto x = static_cast<uint32_t>(xid);  // after the 4-byte length, big-endian
    char be[4] = {static_cast<char>(x >> 24), static_cast<char>(x >> 16), static_cast<char>(x >> 8),
                  static_cast<char>(x)};
    c.link.out.replace(at + 4, 4, be, 4);
    slot->op = next.op;
  }
  slot->xid = xid;
  return true;
}

}  // namespace aviary::bench
