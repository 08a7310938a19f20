// Representative values of every request and reply body, shared by the
// round-trip and malformed-input tests.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "proto/records.h"

namespace aviary::proto::testing {

inline Stat SampleStat() {
  Stat s;
  s.czxid = 0x100000001;
  s.mzxid = 0x100000002;
  s.ctime = 1700000000000;
  s.mtime = 1700000000001;
  s.version = 3;
  s.cversion = -1;
  s.aversion = 2;
  s.ephemeralOwner = 0x7fffffffffffffff;
  s.dataLength = 5;
  s.numChildren = 7;
  s.pzxid = -9;
  return s;
}

inline AclList SampleAcl() { return {{31, {"world", "anyone"}}, {1, {"digest", "u:hash="}}}; }

inline Request MakeRequest(int32_t xid, OpCode op, RequestBody body) {
  Request r;
  r.header = {xid, static_cast<int32_t>(op)};
  r.body = std::move(body);
  return r;
}

inline MultiOp Op(OpCode type, decltype(MultiOp::body) body) {
  MultiOp op;
  op.type = type;
  op.body = std::move(body);
  return op;
}

// One request per opcode the codec knows, with non-default field values.
inline std::vector<Request> SampleRequests() {
  CreateRequest create{"/app/node", std::string("d\0ta", 4), SampleAcl(), 3, -1};
  CreateRequest ttl{"/ttl", "x", SampleAcl(), 5, 60000};
  MultiRequest multi;
  multi.ops.push_back(Op(OpCode::kCreate, create));
  multi.ops.push_back(Op(OpCode::kCreate2, CreateRequest{"/c2", "", {}, 0, -1}));
  multi.ops.push_back(Op(OpCode::kCreateContainer, CreateRequest{"/cc", "", SampleAcl(), 4, -1}));
  multi.ops.push_back(Op(OpCode::kCreateTtl, ttl));
  multi.ops.push_back(Op(OpCode::kDelete, DeleteRequest{"/d", 2}));
  multi.ops.push_back(Op(OpCode::kSetData, SetDataRequest{"/s", "new", -1}));
  multi.ops.push_back(Op(OpCode::kCheck, CheckVersionRequest{"/c", 9}));
  MultiRequest multi_read;
  multi_read.ops.push_back(Op(OpCode::kGetChildren, GetChildrenRequest{"/a", false}));
  multi_read.ops.push_back(Op(OpCode::kGetData, GetDataRequest{"/b", false}));
  SetWatches2 sw{0x123, {"/d1", "/d2"}, {"/e"}, {"/c"}, {}, {}};
  SetWatches2 sw2{0x456, {"/d"}, {}, {"/c1", "/c2"}, {"/p"}, {"/r1", "/r2"}};

  return {
      MakeRequest(1, OpCode::kCreate, create),
      MakeRequest(2, OpCode::kCreate2, create),
      MakeRequest(3, OpCode::kCreateContainer, CreateRequest{"/ctr", "", SampleAcl(), 4, -1}),
      MakeRequest(4, OpCode::kCreateTtl, ttl),
      MakeRequest(5, OpCode::kDelete, DeleteRequest{"/gone", 7}),
      MakeRequest(6, OpCode::kExists, ExistsRequest{"/e", true}),
      MakeRequest(7, OpCode::kGetData, GetDataRequest{"/g", true}),
      MakeRequest(8, OpCode::kSetData, SetDataRequest{"/s", std::string(300, 'z'), 12}),
      MakeRequest(9, OpCode::kGetAcl, GetAclRequest{"/acl"}),
      MakeRequest(10, OpCode::kSetAcl, SetAclRequest{"/acl", SampleAcl(), 1}),
      MakeRequest(11, OpCode::kGetChildren, GetChildrenRequest{"/", true}),
      MakeRequest(12, OpCode::kGetChildren2, GetChildrenRequest{"/x", false}),
      MakeRequest(13, OpCode::kSync, SyncRequest{"/sync"}),
      MakeRequest(14, OpCode::kCheck, CheckVersionRequest{"/chk", 4}),
      MakeRequest(15, OpCode::kMulti, multi),
      MakeRequest(16, OpCode::kMultiRead, multi_read),
      MakeRequest(17, OpCode::kMulti, MultiRequest{}),
      MakeRequest(18, OpCode::kAddWatch, AddWatchRequest{"/w", 1}),
      MakeRequest(19, OpCode::kRemoveWatches, RemoveWatchesRequest{"/w", 3}),
      MakeRequest(20, OpCode::kCheckWatches, RemoveWatchesRequest{"/w", 2}),
      MakeRequest(-8, OpCode::kSetWatches, sw),
      MakeRequest(-8, OpCode::kSetWatches2, sw2),
      MakeRequest(-4, OpCode::kAuth, AuthPacket{0, "digest", "user:pw"}),
      MakeRequest(21, OpCode::kGetEphemerals, GetEphemeralsRequest{"/pre"}),
      MakeRequest(22, OpCode::kGetAllChildrenNumber, GetAllChildrenNumberRequest{"/n"}),
      MakeRequest(23, OpCode::kReconfig, ReconfigRequest{"server.4=h:1:2", "3", "", 0x300000000}),
      MakeRequest(-2, OpCode::kPing, Empty{}),
      MakeRequest(24, OpCode::kCloseSession, Empty{}),
      MakeRequest(25, OpCode::kWhoAmI, Empty{}),
  };
}

struct SampleReply {
  OpCode op;
  ReplyHeader header;
  ResponseBody body;
};

inline std::vector<SampleReply> SampleReplies() {
  Stat st = SampleStat();
  MultiResponse multi;
  multi.results.push_back({OpCode::kCreate, 0, "/a0000000001", {}, {}, {}});
  multi.results.push_back({OpCode::kCreate2, 0, "/b", st, {}, {}});
  multi.results.push_back({OpCode::kDelete, 0, {}, {}, {}, {}});
  multi.results.push_back({OpCode::kSetData, 0, {}, st, {}, {}});
  multi.results.push_back({OpCode::kCheck, 0, {}, {}, {}, {}});
  MultiResponse multi_read;
  multi_read.results.push_back({OpCode::kGetChildren, 0, {}, {}, {}, {"x", "y"}});
  multi_read.results.push_back({OpCode::kGetData, 0, {}, st, "payload", {}});
  multi_read.results.push_back({OpCode::kError, -101, {}, {}, {}, {}});
  auto h = [](int32_t xid) { return ReplyHeader{xid, 0x500000001 + xid, 0}; };
  return {
      {OpCode::kCreate, h(1), CreateResponse{"/app/node0000000001"}},
      {OpCode::kCreate2, h(2), Create2Response{"/c2", st}},
      {OpCode::kCreateContainer, h(3), Create2Response{"/ctr", st}},
      {OpCode::kCreateTtl, h(4), Create2Response{"/ttl", st}},
      {OpCode::kDelete, h(5), Empty{}},
      {OpCode::kExists, h(6), StatResponse{st}},
      {OpCode::kGetData, h(7), GetDataResponse{std::string("\0\1\2", 3), st}},
      {OpCode::kSetData, h(8), StatResponse{st}},
      {OpCode::kGetAcl, h(9), GetAclResponse{SampleAcl(), st}},
      {OpCode::kSetAcl, h(10), StatResponse{st}},
      {OpCode::kGetChildren, h(11), GetChildrenResponse{{"a", "b", "c"}}},
      {OpCode::kGetChildren2, h(12), GetChildren2Response{{"only"}, st}},
      {OpCode::kSync, h(13), SyncResponse{"/sync"}},
      {OpCode::kMulti, h(14), multi},
      {OpCode::kMultiRead, h(15), multi_read},
      {OpCode::kGetEphemerals, h(16), GetEphemeralsResponse{{"/e1", "/e2"}}},
      {OpCode::kGetAllChildrenNumber, h(17), GetAllChildrenNumberResponse{42}},
      {OpCode::kWhoAmI, h(18), WhoAmIResponse{{{"ip", "127.0.0.1"}, {"digest", "u"}}}},
      {OpCode::kReconfig, h(19), GetDataResponse{"server.1=...", st}},
      {OpCode::kNotification, ReplyHeader{-1, -1, 0}, WatcherEvent{4, 3, "/parent"}},
      {OpCode::kPing, ReplyHeader{-2, 0x99, 0}, Empty{}},
      {OpCode::kAuth, ReplyHeader{-4, 0, 0}, Empty{}},
      {OpCode::kSetWatches, ReplyHeader{-8, 0x99, 0}, Empty{}},
      {OpCode::kAddWatch, h(20), ErrorResponse{0}},
      {OpCode::kSasl, h(21), SetSaslResponse{}},
      {OpCode::kCloseSession, h(21), Empty{}},
  };
}

}  // namespace aviary::proto::testing
