// Jute binary codec for the client protocol: big-endian ints, bool as one
// byte, buffer/ustring as int32 length (-1 = null) + bytes, vector as int32
// count + elements. Every read is bounds-checked; a short or malformed input
// yields an error, never a crash or an over-read. Pure functions, no I/O.
//
// Framing: on the wire every packet is int32 length + payload. The functions
// below work on payloads (the length prefix is stripped by the reader and
// added by the Encode* functions that produce whole frames).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "proto/records.h"

namespace aviary::proto {

// Decodes a ConnectRequest payload. The trailing readOnly byte is optional.
// Returns false on malformed input.
bool DecodeConnectRequest(std::string_view payload, ConnectRequest* out);

// Decodes RequestHeader + body. Returns kOk, or kMarshallingError for a
// malformed body. An unknown opcode decodes to an Empty body with kOk
// (the caller answers it with kUnimplemented). Strings and vectors whose
// declared length exceeds the remaining payload are malformed.
Err DecodeRequest(std::string_view payload, Request* out);

// Appends a whole frame (length prefix included) to `out`.
void EncodeConnectResponse(const ConnectResponse& rsp, std::string* out);
// Reply header + body; when hdr.err != 0 and the body is not a
// MultiResponse, only the header is written, as ZooKeeper does.
void EncodeReply(const ReplyHeader& hdr, const ResponseBody& body, std::string* out);
// A successful getData's reply from a view of the node's data: the bytes
// EncodeReply gives for GetDataResponse{data, stat, data_null}, without
// building that record (no copy of the data).
void EncodeGetDataReply(const ReplyHeader& hdr, std::string_view data, bool data_null, const Stat& stat,
                        std::string* out);

// Client-side counterparts, used by tools and tests.
void EncodeConnectRequest(const ConnectRequest& req, std::string* out);
void EncodeRequest(const Request& req, std::string* out);
bool DecodeConnectResponse(std::string_view payload, ConnectResponse* out);
// Decodes a reply payload; `op` says which body to expect (the client knows
// it from the xid it sent). xid -1 decodes a WatcherEvent.
bool DecodeReply(std::string_view payload, OpCode op, ReplyHeader* hdr, ResponseBody* body);

}  // namespace aviary::proto
