// Apache ZooKeeper's txn encoding (docs/format/zookeeper.md): the bytes of
// one txn as ZooKeeper logs it (FileTxnLog record payload) and sends it in a
// PROPOSAL / INFORM / DIFF packet: jute TxnHeader, then the type's record
// (none for a pre-3.6 closeSession), then, when the writer has digests
// enabled (3.6+ default), a TxnDigest (Util.marshallTxnEntry,
// SerializeUtils.deserializeTxn).
//
// Mapping to txn::Txn (what our Txn lacks or adds):
//  - CreateTxn has an `ephemeral` flag; the owner is the header's session.
//    Decode sets ephemeral_owner = session_id; Encode refuses an ephemeral
//    create whose owner is another session (ZooKeeper could not express it).
//  - CloseSessionTxn lists paths2Delete. Decode keeps them (our apply
//    deletes them and then sweeps the session's remaining ephemerals, as
//    ZooKeeper's killSession does). Aviary prepares an empty list; a leader
//    sending to ZooKeeper followers should fill it (FillClosePaths) so the
//    proposal is what a ZooKeeper leader sends, though a ZooKeeper follower
//    also sweeps its local ephemerals and reaches the same tree either way.
//  - The digest has no place in txn::Txn, so ZkTxn carries it beside.
//  - reconfig (SetDataTxn on /zookeeper/config) and top-level check have no
//    Txn form: Decode reports an error.
// Round trip: Encode(Decode(b)) == b for every b ZooKeeper writes.
// Decode is total on hostile input: bounded by the input, never aborts.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tree/data_tree.h"
#include "txn/txn.h"

namespace aviary::zkformat {

inline constexpr int32_t kDigestVersion = 2;  // DigestCalculator.DIGEST_VERSION

// jute TxnDigest
struct TxnDigest {
  int32_t version = kDigestVersion;
  int64_t tree_digest = 0;
  bool operator==(const TxnDigest&) const = default;
};

struct ZkTxn {
  txn::Txn txn;
  std::optional<TxnDigest> digest;
  // closeSession written without a CloseSessionTxn record (ZooKeeper before
  // 3.6, or zookeeper.closeSessionTxn.enabled=false).
  bool close_record_absent = false;
};

// false with *error set when `in` is not one well-formed ZooKeeper txn.
bool DecodeZkTxn(std::string_view in, ZkTxn* out, std::string* error);
// Appends the ZooKeeper bytes of `t` to *out. false (nothing appended) when
// the txn has no ZooKeeper form (see above).
bool EncodeZkTxn(const ZkTxn& t, std::string* out, std::string* error);

// Appends the jute TxnDigest: EncodeZkTxn of a txn without a digest followed
// by this is EncodeZkTxn of the same txn with it.
void AppendTxnDigest(const TxnDigest& d, std::string* out);

// For a closeSession txn with no paths: the session's ephemerals in `tree`
// (the tree the txn will be applied to), as a ZooKeeper leader lists them.
void FillClosePaths(const tree::DataTree& tree, txn::Txn* t);

}  // namespace aviary::zkformat
