// Client-protocol codec (proto::DecodeRequest / proto::EncodeReply): what the
// network thread does per request frame and the core per reply and watch
// event. Decoding builds a fresh proto::Request per frame, as the server
// does; encoding appends to a reused buffer, as the core's per-connection
// output buffer is reused. bytes/s counts the frame's payload bytes.
#include "proto/codec.h"
#include "support.h"

namespace aviary::microbench {
namespace {

constexpr int64_t kZxid = 0x500000000001a2bLL;

// A request frame as a client sends it, without the length prefix.
std::string RequestPayload(const proto::Request& req) {
  std::string frame;
  proto::EncodeRequest(req, &frame);
  return frame.substr(4);
}

proto::Request Make(proto::OpCode op, proto::RequestBody body) {
  proto::Request r;
  r.header = {1234, static_cast<int32_t>(op)};
  r.body = std::move(body);
  return r;
}

proto::CreateRequest Create(size_t bytes) {
  proto::CreateRequest c;
  c.path = "/app/service-17/lock-";
  c.data = Payload(bytes);
  c.acl = OpenAcl();
  c.flags = 3;  // ephemeral sequential
  return c;
}

proto::SetDataRequest SetData(size_t bytes) { return {"/app/service-17/node-0000017234", Payload(bytes), 7, false}; }

void RunDecode(benchmark::State& state, const std::string& payload) {
  proto::Request probe;
  if (proto::DecodeRequest(payload, &probe) != proto::Err::kOk) {
    Fail(state, "the request does not decode");
    return;
  }
  for (auto _ : state) {
    proto::Request req;
    proto::Err err = proto::DecodeRequest(payload, &req);
    benchmark::DoNotOptimize(err);
    benchmark::DoNotOptimize(req);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(payload.size()));
}

void RunEncode(benchmark::State& state, const proto::ReplyHeader& hdr, const proto::ResponseBody& body) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    proto::EncodeReply(hdr, body, &out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}

void DecodeGetData(benchmark::State& state) {
  RunDecode(state, RequestPayload(
                       Make(proto::OpCode::kGetData, proto::GetDataRequest{"/app/service-17/node-0000017234", true})));
}

void DecodeSetData(benchmark::State& state) {
  RunDecode(state, RequestPayload(Make(proto::OpCode::kSetData, SetData(state.range(0)))));
}

void DecodeCreate(benchmark::State& state) {
  RunDecode(state, RequestPayload(Make(proto::OpCode::kCreate2, Create(state.range(0)))));
}

proto::MultiRequest Multi4(size_t bytes) {
  proto::MultiRequest m;
  m.ops.push_back({proto::OpCode::kCheck, proto::CheckVersionRequest{"/app/service-17", 41}});
  m.ops.push_back({proto::OpCode::kCreate, Create(bytes)});
  m.ops.push_back({proto::OpCode::kSetData, SetData(bytes)});
  m.ops.push_back({proto::OpCode::kDelete, proto::DeleteRequest{"/app/service-17/node-0000017001", 3}});
  return m;
}

void DecodeMulti4(benchmark::State& state) {
  RunDecode(state, RequestPayload(Make(proto::OpCode::kMulti, Multi4(state.range(0)))));
}

proto::Stat SampleStat(int32_t data_bytes) {
  proto::Stat s;
  s.czxid = kZxid - 5000;
  s.mzxid = kZxid - 17;
  s.ctime = 1764550000000;
  s.mtime = 1764558000000;
  s.version = 7;
  s.dataLength = data_bytes;
  s.pzxid = s.czxid;
  return s;
}

void EncodeGetDataReply(benchmark::State& state) {
  const auto bytes = static_cast<int32_t>(state.range(0));
  RunEncode(state, {1234, kZxid, 0}, proto::GetDataResponse{Payload(bytes), SampleStat(bytes), false});
}

// A setData's reply (the Stat): every write of the set workload.
void EncodeStatReply(benchmark::State& state) {
  RunEncode(state, {1234, kZxid, 0}, proto::StatResponse{SampleStat(100)});
}

void EncodeMulti4Reply(benchmark::State& state) {
  proto::MultiResponse m;
  m.results.resize(4);
  m.results[0].type = proto::OpCode::kCheck;
  m.results[1].type = proto::OpCode::kCreate;
  m.results[1].path = "/app/service-17/lock-0000001234";
  m.results[2].type = proto::OpCode::kSetData;
  m.results[2].stat = SampleStat(100);
  m.results[3].type = proto::OpCode::kDelete;
  RunEncode(state, {1234, kZxid, 0}, m);
}

void EncodeWatchEvent(benchmark::State& state) {
  const proto::WatcherEvent ev{static_cast<int32_t>(proto::EventType::kNodeDataChanged),
                               static_cast<int32_t>(proto::KeeperState::kSyncConnected),
                               "/app/service-17/node-0000017234"};
  RunEncode(state, {proto::xid::kNotification, -1, 0}, ev);
}

}  // namespace

void RegisterCodec(const Scale& s) {
  const std::vector<int64_t> sizes = s.Pick({10, 1024, 100 * 1024});
  Register("codec/decode_get_data", DecodeGetData);
  Register("codec/decode_set_data", DecodeSetData, "bytes", sizes);
  Register("codec/decode_create", DecodeCreate, "bytes", sizes);
  Register("codec/decode_multi4", DecodeMulti4, "bytes", sizes);
  Register("codec/encode_get_data_reply", EncodeGetDataReply, "bytes", sizes);
  Register("codec/encode_stat_reply", EncodeStatReply);
  Register("codec/encode_multi4_reply", EncodeMulti4Reply);
  Register("codec/encode_watch_event", EncodeWatchEvent);
}

}  // namespace aviary::microbench
