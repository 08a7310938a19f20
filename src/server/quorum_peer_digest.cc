// QuorumPeer: ZooKeeper's tree digest in the ensemble (core thread).
// The leader's proposals carry the TxnDigest ZooKeeper's leader would put in
// them (PrepRequestProcessor: the digest after the txn, predicted before it
// is applied); every member compares its tree after applying a txn that came
// with one (DigestChecker, installed on the Core's state machine in Start)
// and logs the digest with the txn, so that a DIFF from the log carries it
// again (SendDiff), as ZooKeeper's FileTxnLog keeps it. With
// zookeeper.digest.enabled=false (QuorumConfig::digest_enabled) there is no
// checker: no digest is predicted, sent, logged or compared.
#include "base/log.h"
#include "server/quorum_peer.h"
#include "zkformat/txn_codec.h"

namespace aviary::server {

namespace {

txn::Txn ErrorTxnLike(const txn::Txn& t) {
  txn::Txn e;
  e.session_id = t.session_id;
  e.cxid = t.cxid;
  e.zxid = t.zxid;
  e.time_ms = t.time_ms;
  e.type = proto::OpCode::kError;
  e.op = txn::Op{proto::OpCode::kError, txn::ErrorTxn{proto::Err::kMarshallingError}};
  return e;
}

}  // namespace

// The txn in ZooKeeper's bytes (a closeSession listing the session's
// ephemerals, as ZooKeeper's leader does), then its predicted digest. The
// txn the core applies keeps its own (empty) closeSession list: its apply
// sweeps the same ephemerals.
// The txn is encoded in place (moved into the ZkTxn and back, no copy);
// a closeSession's paths filled in for the encoding are dropped again.
QuorumPeer::Proposal QuorumPeer::EncodeProposal(txn::Txn t) {
  const txn::StateMachine& sm = core_->state();
  zkformat::ZkTxn z;
  z.txn = std::move(t);
  auto* close = std::get_if<txn::CloseSessionTxn>(&z.txn.op.body);
  const bool clear_close_paths =
      z.txn.type == proto::OpCode::kCloseSession && close != nullptr && close->paths_to_delete.empty();
  predictor_.FillClosePaths(sm.tree(), sm.last_zxid(), &z.txn);
  Proposal p;
  std::string error;
  if (!zkformat::EncodeZkTxn(z, &p.bytes, &error)) {
    AV_LOG(kError, "zxid {:#x} has no ZooKeeper form ({}): proposing an error txn", z.txn.zxid, error);
    z.txn = ErrorTxnLike(z.txn);
    p.bytes.clear();
    zkformat::EncodeZkTxn(z, &p.bytes, &error);
  }
  std::optional<int64_t> d;
  if (checker_) {  // zookeeper.digest.enabled
    d = predictor_.Predict(sm.tree(), sm.last_zxid(), checker_->Current(sm.tree()), &z.txn);
    if (d) zkformat::AppendTxnDigest(zkformat::TxnDigest{zkformat::kDigestVersion, *d}, &p.bytes);
  }
  p.txn = std::move(z.txn);
  if (clear_close_paths) {
    if (auto* c = std::get_if<txn::CloseSessionTxn>(&p.txn.op.body)) c->paths_to_delete.clear();
  }
  p.txn.zk_digest = d;  // the leader compares its own tree after apply, and logs it for DIFF
  return p;
}

// A learner whose tree differs from its leader's has diverged: with
// aviary.digest.stopOnMismatch it stops (its files hold the divergence:
// restart it with an empty data directory and it takes a SNAP). A leader's
// own mismatch means its prediction was wrong, not that it diverged: it is
// logged and counted only, as every mismatch is.
void QuorumPeer::OnDigestMismatch(const zkformat::DigestMismatch& m) {
  const QuorumStatus st = status();
  const bool leading = st.role == zab::Role::kLeading;
  const int64_t count = checker_->mismatches();
  if (count <= 10 || count % 1000 == 0) {  // a diverged tree mismatches at every txn: bounded logging
    AV_LOG(kError, "Digests are not matching: zxid {:#x}, expected {} ({}), actual {} (this tree); {} so far", m.zxid,
           m.expected, leading ? "predicted by this leader" : "the leader's", m.actual, count);
  }
  // Between Aviary servers a mismatch is divergence; under a ZooKeeper
  // leader it may also be the two implementations disagreeing, so by
  // default it is only counted there (as ZooKeeper does).
  if (leading || !opts_.quorum.digest_stop_on_mismatch.value_or(st.leader_is_aviary)) return;
  AV_LOG(kError,
         "ensemble: this server's tree diverged from its {} leader's at zxid {:#x}: stopping "
         "(aviary.digest.stopOnMismatch). Restart it with an empty data directory to take a snapshot from the leader",
         st.leader_is_aviary ? "Aviary" : "ZooKeeper", m.zxid);
  std::_Exit(3);
}

}  // namespace aviary::server
