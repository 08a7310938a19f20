// multi / multiRead encoding: a sequence of MultiHeader{type, done, err}
// each followed by the op (request) or result (response) body, terminated by
// MultiHeader{-1, true, -1}. See docs/format/wire.md.
#include "proto/record_io.h"

namespace aviary::proto::io {

using jute::Reader;
using jute::Writer;

namespace {

struct MultiHeader {
  int32_t type = -1;
  bool done = true;
  int32_t err = -1;
};

MultiHeader ReadHeader(Reader& r) {
  MultiHeader h;
  h.type = r.ReadInt32();
  h.done = r.ReadBool();
  h.err = r.ReadInt32();
  return h;
}

void WriteHeader(Writer& w, int32_t type, bool done, int32_t err) {
  w.WriteInt32(type);
  w.WriteBool(done);
  w.WriteInt32(err);
}

enum class Kind { kNone, kWrite, kRead };

template <typename T>
T& Emplace(MultiRequest* b, OpCode type) {
  MultiOp& op = b->ops.emplace_back();
  op.type = type;
  return op.body.emplace<T>();
}

}  // namespace

void Read(Reader& r, MultiRequest* b) {
  b->ops.clear();
  Kind kind = Kind::kNone;
  for (;;) {
    MultiHeader h = ReadHeader(r);
    if (!r.ok() || h.done) return;
    OpCode type = static_cast<OpCode>(h.type);
    Kind k = Kind::kWrite;
    switch (type) {
      case OpCode::kCreate:
      case OpCode::kCreate2:
      case OpCode::kCreateContainer:
        Read(r, &Emplace<CreateRequest>(b, type), /*with_ttl=*/false);
        break;
      case OpCode::kCreateTtl:
        Read(r, &Emplace<CreateRequest>(b, type), /*with_ttl=*/true);
        break;
      case OpCode::kDelete:
        Read(r, &Emplace<DeleteRequest>(b, type));
        break;
      case OpCode::kSetData:
        Read(r, &Emplace<SetDataRequest>(b, type));
        break;
      case OpCode::kCheck:
        Read(r, &Emplace<CheckVersionRequest>(b, type));
        break;
      case OpCode::kGetChildren:
        Read(r, &Emplace<GetChildrenRequest>(b, type));
        k = Kind::kRead;
        break;
      case OpCode::kGetData:
        Read(r, &Emplace<GetDataRequest>(b, type));
        k = Kind::kRead;
        break;
      default:
        r.Fail();  // ZooKeeper: "Invalid type of op"
        return;
    }
    // ZooKeeper rejects mixing read and write ops in one record.
    if (kind != Kind::kNone && kind != k) {
      r.Fail();
      return;
    }
    kind = k;
  }
}

void Write(Writer& w, const MultiRequest& b) {
  for (const MultiOp& op : b.ops) {
    WriteHeader(w, static_cast<int32_t>(op.type), false, -1);
    std::visit(
        [&](const auto& body) {
          using T = std::decay_t<decltype(body)>;
          if constexpr (std::is_same_v<T, CreateRequest>) {
            Write(w, body, /*with_ttl=*/op.type == OpCode::kCreateTtl);
          } else {
            Write(w, body);
          }
        },
        op.body);
  }
  WriteHeader(w, -1, true, -1);
}

void Read(Reader& r, MultiResponse* b) {
  b->results.clear();
  for (;;) {
    MultiHeader h = ReadHeader(r);
    if (!r.ok() || h.done) return;
    MultiResult& res = b->results.emplace_back();
    res.type = static_cast<OpCode>(h.type);
    switch (res.type) {
      case OpCode::kCreate:
        res.path = r.ReadString();
        break;
      case OpCode::kCreate2:
        res.path = r.ReadString();
        Read(r, &res.stat);
        break;
      case OpCode::kDelete:
      case OpCode::kCheck:
        break;
      case OpCode::kSetData:
        Read(r, &res.stat);
        break;
      case OpCode::kGetChildren:
        Read(r, &res.children);
        break;
      case OpCode::kGetData:
        res.data = r.ReadBuffer(&res.data_null);
        Read(r, &res.stat);
        break;
      case OpCode::kError:
        res.err = r.ReadInt32();  // ErrorResponse{err}
        break;
      default:
        r.Fail();  // ZooKeeper: "Invalid type ... in MultiResponse"
        return;
    }
  }
}

void Write(Writer& w, const MultiResponse& b) {
  for (const MultiResult& res : b.results) {
    bool is_error = res.type == OpCode::kError;
    WriteHeader(w, static_cast<int32_t>(res.type), false, is_error ? res.err : 0);
    switch (res.type) {
      case OpCode::kCreate:
        w.WriteString(res.path);
        break;
      case OpCode::kCreate2:
        w.WriteString(res.path);
        Write(w, res.stat);
        break;
      case OpCode::kSetData:
        Write(w, res.stat);
        break;
      case OpCode::kGetChildren:
        Write(w, res.children);
        break;
      case OpCode::kGetData:
        w.WriteBuffer(res.data, res.data_null);
        Write(w, res.stat);
        break;
      case OpCode::kError:
        w.WriteInt32(res.err);
        break;
      default:  // kDelete, kCheck; other types are a caller bug (header only)
        break;
    }
  }
  WriteHeader(w, -1, true, -1);
}

}  // namespace aviary::proto::io
