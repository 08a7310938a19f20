// Reply side of the codec (server encodes, client decodes).
#include <cstring>
#include <type_traits>

#include "proto/codec.h"
#include "proto/record_io.h"

namespace aviary::proto {

using jute::Reader;
using jute::Writer;

namespace {

template <typename T>
void ReadAs(Reader& r, ResponseBody* body) {
  io::Read(r, &body->emplace<T>());
}

// Reads the body ZooKeeper sends for a successful `op`.
void ReadReplyBody(Reader& r, OpCode op, ResponseBody* body) {
  switch (op) {
    case OpCode::kCreate:
      return ReadAs<CreateResponse>(r, body);
    case OpCode::kCreate2:
    case OpCode::kCreateContainer:
    case OpCode::kCreateTtl:
      return ReadAs<Create2Response>(r, body);
    case OpCode::kExists:
    case OpCode::kSetData:
    case OpCode::kSetAcl:
      return ReadAs<StatResponse>(r, body);
    case OpCode::kGetData:
    case OpCode::kReconfig:  // the new config, as GetDataResponse
      return ReadAs<GetDataResponse>(r, body);
    case OpCode::kGetAcl:
      return ReadAs<GetAclResponse>(r, body);
    case OpCode::kGetChildren:
      return ReadAs<GetChildrenResponse>(r, body);
    case OpCode::kGetChildren2:
      return ReadAs<GetChildren2Response>(r, body);
    case OpCode::kSync:
      return ReadAs<SyncResponse>(r, body);
    case OpCode::kMulti:
    case OpCode::kMultiRead:
      return ReadAs<MultiResponse>(r, body);
    case OpCode::kGetEphemerals:
      return ReadAs<GetEphemeralsResponse>(r, body);
    case OpCode::kGetAllChildrenNumber:
      return ReadAs<GetAllChildrenNumberResponse>(r, body);
    case OpCode::kWhoAmI:
      return ReadAs<WhoAmIResponse>(r, body);
    case OpCode::kAddWatch:
      return ReadAs<ErrorResponse>(r, body);
    case OpCode::kSasl:
      return ReadAs<SetSaslResponse>(r, body);
    default:  // delete, check, ping, closeSession, auth, setWatches, ...
      body->emplace<Empty>();
      return;
  }
}

}  // namespace

namespace {
// Frame length (patched by EndFrame, or given) + ReplyHeader.
constexpr size_t kReplyHeadBytes = 4 + 4 + 8 + 4;

void PutReplyHead(char* p, uint32_t frame_len, const ReplyHeader& hdr) {
  Writer::PutInt32(p, static_cast<int32_t>(frame_len));
  Writer::PutInt32(p + 4, hdr.xid);
  Writer::PutInt64(p + 8, hdr.zxid);
  Writer::PutInt32(p + 16, hdr.err);
}
}  // namespace

void EncodeReply(const ReplyHeader& hdr, const ResponseBody& body, std::string* out) {
  Writer w(out);
  const size_t frame = out->size();  // EndFrame patches the length
  w.WriteBlock(kReplyHeadBytes, [&hdr](char* p) { PutReplyHead(p, 0, hdr); });
  // An error reply is the header alone, except a multi's results and a
  // failed SASL step's null token (ZooKeeper sends SetSASLResponse(null)).
  if (hdr.err == 0 || std::holds_alternative<MultiResponse>(body) || std::holds_alternative<SetSaslResponse>(body)) {
    std::visit(
        [&](const auto& b) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(b)>, Empty>) io::Write(w, b);
        },
        body);
  }
  w.EndFrame(frame);
}

void EncodeGetDataReply(const ReplyHeader& hdr, std::string_view data, bool data_null, const Stat& stat,
                        std::string* out) {
  // Its size is known up front: one append, filled in place.
  const size_t data_bytes = data_null ? 0 : data.size();
  const size_t total = kReplyHeadBytes + 4 + data_bytes + io::kStatBytes;
  Writer w(out);
  w.WriteBlock(total, [&](char* p) {
    PutReplyHead(p, static_cast<uint32_t>(total - 4), hdr);
    p += kReplyHeadBytes;
    Writer::PutInt32(p, data_null ? -1 : static_cast<int32_t>(data_bytes));
    if (data_bytes != 0) std::memcpy(p + 4, data.data(), data_bytes);
    io::PutStat(p + 4 + data_bytes, stat);
  });
}

bool DecodeReply(std::string_view payload, OpCode op, ReplyHeader* hdr, ResponseBody* body) {
  Reader r(payload);
  hdr->xid = r.ReadInt32();
  hdr->zxid = r.ReadInt64();
  hdr->err = r.ReadInt32();
  if (!r.ok()) {
    body->emplace<Empty>();
    return false;
  }
  if (hdr->xid == xid::kNotification) {
    ReadAs<WatcherEvent>(r, body);
  } else if (hdr->err != 0) {
    // Header only, except a multi, which may carry its results.
    bool multi = op == OpCode::kMulti || op == OpCode::kMultiRead;
    if (multi && r.remaining() > 0) {
      ReadAs<MultiResponse>(r, body);
    } else {
      body->emplace<Empty>();
    }
  } else {
    ReadReplyBody(r, op, body);
  }
  return r.ok();
}

}  // namespace aviary::proto
