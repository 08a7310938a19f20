// Txn codec of the write-ahead log (storage::EncodeTxn / DecodeTxn): every
// write is encoded once when logged; every record is decoded at recovery
// and when a leader streams its log. bytes/s counts the encoding's bytes.
#include "storage/txn_codec.h"
#include "support.h"

namespace aviary::microbench {
namespace {

txn::Txn SetData(size_t bytes) {
  return SetDataTxn("/app/service-17/node-0000017234", Payload(bytes), 8, 0x500000000001a2bLL);
}

txn::Txn Multi4(size_t bytes) {
  txn::Txn t = SetData(bytes);
  t.type = proto::OpCode::kMulti;
  t.multi.push_back({proto::OpCode::kCheck, txn::CheckTxn{"/app/service-17", 41}});
  txn::Op create = CreateTxn("/app/service-17/lock-0000001234", Payload(bytes), t.zxid).op;
  std::get<txn::CreateTxn>(create.body).parent_cversion = 1235;
  t.multi.push_back(std::move(create));
  t.multi.push_back(t.op);
  t.multi.push_back({proto::OpCode::kDelete, txn::DeleteTxn{"/app/service-17/node-0000017001"}});
  t.op = {};
  return t;
}

void RunEncode(benchmark::State& state, const txn::Txn& t) {
  std::string out;
  for (auto _ : state) {
    out.clear();
    storage::EncodeTxn(t, &out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}

void RunDecode(benchmark::State& state, const txn::Txn& t) {
  std::string in;
  storage::EncodeTxn(t, &in);
  txn::Txn probe;
  if (!storage::DecodeTxn(in, &probe)) {
    Fail(state, "the txn does not decode");
    return;
  }
  for (auto _ : state) {
    txn::Txn out;
    bool ok = storage::DecodeTxn(in, &out);
    benchmark::DoNotOptimize(ok);
    benchmark::DoNotOptimize(out);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(in.size()));
}

void EncodeSetData(benchmark::State& state) { RunEncode(state, SetData(state.range(0))); }
void DecodeSetData(benchmark::State& state) { RunDecode(state, SetData(state.range(0))); }
void EncodeMulti4(benchmark::State& state) { RunEncode(state, Multi4(state.range(0))); }
void DecodeMulti4(benchmark::State& state) { RunDecode(state, Multi4(state.range(0))); }

}  // namespace

void RegisterTxnCodec(const Scale& s) {
  const std::vector<int64_t> sizes = s.Pick({10, 1024, 100 * 1024});
  Register("txn_codec/encode_set_data", EncodeSetData, "bytes", sizes);
  Register("txn_codec/decode_set_data", DecodeSetData, "bytes", sizes);
  Register("txn_codec/encode_multi4", EncodeMulti4, "bytes", sizes);
  Register("txn_codec/decode_multi4", DecodeMulti4, "bytes", sizes);
}

}  // namespace aviary::microbench
