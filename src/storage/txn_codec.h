// Binary encoding of txn::Txn for the write-ahead log (docs/format/wal.md).
// Every field of Txn, every Op body (multi included) and the data_null
// flags are kept, so DecodeTxn(EncodeTxn(t)) == t field by field. The
// encoding starts with a codec version byte: 1, or 2 when the txn carries
// ZooKeeper's TxnDigest (`zk_digest`, appended as an i64 after the ops, so
// that a leader's DIFF sends the digest each txn was proposed with, as
// ZooKeeper's FileTxnLog keeps it); a txn without one is written as version
// 1, readable by earlier Aviary releases. DecodeTxn rejects unknown
// versions, unknown op types, body/type mismatches, trailing bytes and any
// length beyond the input. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "txn/txn.h"

namespace aviary::storage {

inline constexpr uint8_t kTxnCodecVersion = 1;
inline constexpr uint8_t kTxnCodecVersionDigest = 2;  // version 1 + i64 zk_digest
// Bound on the ops of one multi when decoding (also bounded by input size).
inline constexpr size_t kMaxMultiOps = 1 << 20;

// Appends the encoding of `t` to *out.
void EncodeTxn(const txn::Txn& t, std::string* out);
// Exactly how many bytes EncodeTxn appends for `t` / one op takes in it,
// computed without encoding (the prepare-time size bound, storage/limits.h).
size_t EncodedTxnBytes(const txn::Txn& t);
size_t EncodedOpBytes(const txn::Op& op);
// false (and *out unspecified) when `in` is not exactly one valid encoding.
bool DecodeTxn(std::string_view in, txn::Txn* out);

}  // namespace aviary::storage
