// libFuzzer target for the jute codec. Every input is fed, as a payload, to
// the handshake decoders, DecodeRequest and DecodeReply. Whatever decodes is
// re-encoded; the re-encoded frame must decode again and re-encode to the
// same bytes (encoding is canonical after one pass: null buffers become
// empty, bools become 0/1, trailing bytes and multi header filler vanish).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proto/codec.h"

namespace {

using namespace aviary::proto;

void Check(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "fuzz_decode invariant failed: %s\n", what);
    std::abort();
  }
}

std::string_view PayloadOf(const std::string& frame) {
  Check(frame.size() >= 4, "frame has a length prefix");
  uint32_t len = static_cast<uint8_t>(frame[0]) << 24 | static_cast<uint8_t>(frame[1]) << 16 |
                 static_cast<uint8_t>(frame[2]) << 8 | static_cast<uint8_t>(frame[3]);
  Check(len == frame.size() - 4, "length prefix matches");
  return std::string_view(frame).substr(4);
}

void FuzzConnect(std::string_view in) {
  ConnectRequest req;
  if (DecodeConnectRequest(in, &req)) {
    std::string f1, f2;
    EncodeConnectRequest(req, &f1);
    ConnectRequest back;
    Check(DecodeConnectRequest(PayloadOf(f1), &back), "connect request re-decodes");
    EncodeConnectRequest(back, &f2);
    Check(f1 == f2, "connect request re-encodes identically");
  }
  ConnectResponse rsp;
  if (DecodeConnectResponse(in, &rsp)) {
    std::string f1, f2;
    EncodeConnectResponse(rsp, &f1);
    ConnectResponse back;
    Check(DecodeConnectResponse(PayloadOf(f1), &back), "connect response re-decodes");
    EncodeConnectResponse(back, &f2);
    Check(f1 == f2, "connect response re-encodes identically");
  }
}

void FuzzRequest(std::string_view in) {
  Request req;
  Err err = DecodeRequest(in, &req);
  Check(err == Err::kOk || err == Err::kMarshallingError, "DecodeRequest result");
  if (err != Err::kOk) return;
  std::string f1, f2;
  EncodeRequest(req, &f1);
  Request back;
  Check(DecodeRequest(PayloadOf(f1), &back) == Err::kOk, "request re-decodes");
  Check(back.header.xid == req.header.xid && back.header.type == req.header.type, "request header survives");
  Check(back.body.index() == req.body.index(), "request body kind survives");
  EncodeRequest(back, &f2);
  Check(f1 == f2, "request re-encodes identically");
}

constexpr OpCode kReplyOps[] = {
    OpCode::kCreate, OpCode::kCreate2,     OpCode::kCreateTtl,     OpCode::kDelete,
    OpCode::kExists, OpCode::kGetData,     OpCode::kSetData,       OpCode::kGetAcl,
    OpCode::kSetAcl, OpCode::kGetChildren, OpCode::kGetChildren2,  OpCode::kSync,
    OpCode::kMulti,  OpCode::kMultiRead,   OpCode::kGetEphemerals, OpCode::kGetAllChildrenNumber,
    OpCode::kWhoAmI, OpCode::kReconfig,    OpCode::kPing,          OpCode::kAuth,
};

void FuzzReply(std::string_view in) {
  if (in.empty()) return;
  // The expected op is not on the wire; derive it from the last byte.
  OpCode op = kReplyOps[static_cast<uint8_t>(in.back()) % (sizeof(kReplyOps) / sizeof(kReplyOps[0]))];
  ReplyHeader hdr;
  ResponseBody body;
  if (!DecodeReply(in, op, &hdr, &body)) return;
  // A notification with err != 0 is encoded header-only and cannot decode.
  if (hdr.xid == xid::kNotification && hdr.err != 0) return;
  std::string f1, f2;
  EncodeReply(hdr, body, &f1);
  ReplyHeader hdr2;
  ResponseBody body2;
  Check(DecodeReply(PayloadOf(f1), op, &hdr2, &body2), "reply re-decodes");
  Check(body2.index() == body.index(), "reply body kind survives");
  EncodeReply(hdr2, body2, &f2);
  Check(f1 == f2, "reply re-encodes identically");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  FuzzConnect(in);
  FuzzRequest(in);
  FuzzReply(in);
  return 0;
}
