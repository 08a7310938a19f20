// Request side of the codec (server decodes, client encodes) and the
// session handshake records.
#include "proto/codec.h"

#include <type_traits>

#include "proto/record_io.h"

namespace aviary::proto {

using jute::Reader;
using jute::Writer;

namespace {

template <typename T>
T& Body(Request* out) {
  return out->body.emplace<T>();
}

// {path, watch} bodies and setData: one already of the same type is decoded into (every
// field is read), so that its path's storage is reused. The server hands
// decoded reads' path strings back to the I/O threads (server/path_pool.h):
// no allocation per read.
template <typename T>
T& ReusedBody(Request* out) {
  if (T* b = std::get_if<T>(&out->body)) return *b;
  return out->body.emplace<T>();
}

// Reads the body for `op`; unknown opcodes leave an Empty body.
void ReadRequestBody(Reader& r, OpCode op, Request* out) {
  switch (op) {
    case OpCode::kCreate:
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
      io::Read(r, &Body<CreateRequest>(out), /*with_ttl=*/false);
      break;
    case OpCode::kCreateTtl:
      io::Read(r, &Body<CreateRequest>(out), /*with_ttl=*/true);
      break;
    case OpCode::kDelete:
      io::Read(r, &Body<DeleteRequest>(out));
      break;
    case OpCode::kExists:
      io::Read(r, &ReusedBody<ExistsRequest>(out));
      break;
    case OpCode::kGetData:
      io::Read(r, &ReusedBody<GetDataRequest>(out));
      break;
    case OpCode::kSetData:
      io::Read(r, &ReusedBody<SetDataRequest>(out));
      break;
    case OpCode::kGetAcl:
      io::Read(r, &Body<GetAclRequest>(out));
      break;
    case OpCode::kSetAcl:
      io::Read(r, &Body<SetAclRequest>(out));
      break;
    case OpCode::kGetChildren:
    case OpCode::kGetChildren2:
      io::Read(r, &ReusedBody<GetChildrenRequest>(out));
      break;
    case OpCode::kSync:
      io::Read(r, &Body<SyncRequest>(out));
      break;
    case OpCode::kCheck:
      io::Read(r, &Body<CheckVersionRequest>(out));
      break;
    case OpCode::kMulti:
    case OpCode::kMultiRead:
      io::Read(r, &Body<MultiRequest>(out));
      break;
    case OpCode::kAddWatch:
      io::Read(r, &Body<AddWatchRequest>(out));
      break;
    case OpCode::kCheckWatches:
    case OpCode::kRemoveWatches:
      io::Read(r, &Body<RemoveWatchesRequest>(out));
      break;
    case OpCode::kSetWatches:
      io::Read(r, &Body<SetWatches2>(out), /*v2=*/false);
      break;
    case OpCode::kSetWatches2:
      io::Read(r, &Body<SetWatches2>(out), /*v2=*/true);
      break;
    case OpCode::kAuth:
      io::Read(r, &Body<AuthPacket>(out));
      break;
    case OpCode::kSasl:
      io::Read(r, &Body<GetSaslRequest>(out));
      break;
    case OpCode::kGetEphemerals:
      io::Read(r, &Body<GetEphemeralsRequest>(out));
      break;
    case OpCode::kGetAllChildrenNumber:
      io::Read(r, &Body<GetAllChildrenNumberRequest>(out));
      break;
    case OpCode::kReconfig:
      io::Read(r, &Body<ReconfigRequest>(out));
      break;
    case OpCode::kDeleteContainer: {
      // ZooKeeper reads this internal op's body as raw path bytes (no jute
      // length prefix), so a client-sent one carries its whole body as path.
      auto& d = Body<DeleteRequest>(out);
      d.path = std::string(r.ReadRaw(r.remaining()));
      d.version = -1;
      break;
    }
    default:  // ping, closeSession, whoAmI and unknown opcodes: no body
      out->body.emplace<Empty>();
      break;
  }
}

}  // namespace

bool DecodeConnectRequest(std::string_view payload, ConnectRequest* out) {
  Reader r(payload);
  out->protocolVersion = r.ReadInt32();
  out->lastZxidSeen = r.ReadInt64();
  out->timeOut = r.ReadInt32();
  out->sessionId = r.ReadInt64();
  out->passwd = r.ReadBuffer();
  out->has_read_only = r.ok() && r.remaining() > 0;
  out->readOnly = out->has_read_only ? r.ReadBool() : false;
  return r.ok();
}

void EncodeConnectRequest(const ConnectRequest& req, std::string* out) {
  Writer w(out);
  size_t frame = w.BeginFrame();
  w.WriteInt32(req.protocolVersion);
  w.WriteInt64(req.lastZxidSeen);
  w.WriteInt32(req.timeOut);
  w.WriteInt64(req.sessionId);
  w.WriteBuffer(req.passwd);
  if (req.has_read_only) w.WriteBool(req.readOnly);
  w.EndFrame(frame);
}

bool DecodeConnectResponse(std::string_view payload, ConnectResponse* out) {
  Reader r(payload);
  out->protocolVersion = r.ReadInt32();
  out->timeOut = r.ReadInt32();
  out->sessionId = r.ReadInt64();
  out->passwd = r.ReadBuffer();
  out->has_read_only = r.ok() && r.remaining() > 0;
  out->readOnly = out->has_read_only ? r.ReadBool() : false;
  return r.ok();
}

void EncodeConnectResponse(const ConnectResponse& rsp, std::string* out) {
  Writer w(out);
  size_t frame = w.BeginFrame();
  w.WriteInt32(rsp.protocolVersion);
  w.WriteInt32(rsp.timeOut);
  w.WriteInt64(rsp.sessionId);
  w.WriteBuffer(rsp.passwd);
  if (rsp.has_read_only) w.WriteBool(rsp.readOnly);
  w.EndFrame(frame);
}

Err DecodeRequest(std::string_view payload, Request* out) {
  Reader r(payload);
  out->header.xid = r.ReadInt32();
  out->header.type = r.ReadInt32();
  if (!r.ok()) {
    out->body.emplace<Empty>();
    return Err::kMarshallingError;
  }
  ReadRequestBody(r, out->op(), out);
  // Trailing bytes are ignored, as ZooKeeper does.
  return r.ok() ? Err::kOk : Err::kMarshallingError;
}

void EncodeRequest(const Request& req, std::string* out) {
  Writer w(out);
  size_t frame = w.BeginFrame();
  w.WriteInt32(req.header.xid);
  w.WriteInt32(req.header.type);
  const OpCode op = req.op();
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Empty>) {
          // nothing
        } else if constexpr (std::is_same_v<T, CreateRequest>) {
          io::Write(w, body, /*with_ttl=*/op == OpCode::kCreateTtl);
        } else if constexpr (std::is_same_v<T, SetWatches2>) {
          io::Write(w, body, /*v2=*/op != OpCode::kSetWatches);
        } else if constexpr (std::is_same_v<T, DeleteRequest>) {
          if (op == OpCode::kDeleteContainer) {
            out->append(body.path);  // raw path bytes, as DecodeRequest reads them
          } else {
            io::Write(w, body);
          }
        } else {
          io::Write(w, body);
        }
      },
      req.body);
  w.EndFrame(frame);
}

}  // namespace aviary::proto
