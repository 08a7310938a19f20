// Apply: the deterministic effect of a Txn on the tree (ZooKeeper's
// DataTree.processTxn). Pure function of (tree, txn); single-threaded (the
// caller owns the tree). Tolerant of replay over a fuzzy snapshot: a create
// of an existing node or a delete of a missing one reports the error and
// leaves the tree consistent (for kCreate + NodeExists the parent's
// cversion/pzxid are raised as ZooKeeper does).
#pragma once

#include <string>
#include <vector>

#include "proto/codes.h"
#include "proto/records.h"
#include "tree/data_tree.h"
#include "txn/txn.h"

namespace aviary::txn {

// A watch event to fire, in order. kNodeDeleted(path) fires both data and
// child watches on `path` (as ZooKeeper); kNodeChildrenChanged names the
// parent ("/" for top-level nodes). `acl` is the list a watcher needs READ
// on to receive the event (CVE-2024-23944, ZooKeeper 3.8.4 / 3.9.2): the
// created, changed or deleted node's ACL as it was at that op, the parent's
// for kNodeChildrenChanged.
struct WatchTrigger {
  std::string path;
  proto::EventType type;
  proto::AclList acl;
};

// One op's outcome. For a single op `type` is the txn's op type. For multi
// it is the MultiResponse wire type: kCreate (path only), kCreate2 (path +
// stat; also for createContainer/createTTL/create2), kDelete (also
// deleteContainer), kSetData (stat), kCheck, kError (err).
struct OpResult {
  proto::OpCode type = proto::OpCode::kError;
  proto::Err err = proto::Err::kOk;
  std::string path;  // the op's path (a create's final one); empty for setData
  proto::Stat stat;  // the node's stat after create/setData/setACL
};

struct ApplyResult {
  // The ReplyHeader err: the op's error for single ops (ErrorTxn's err, or a
  // replay failure); always kOk for kMulti, whose per-op errors are in
  // `results` (ZooKeeper's FinalRequestProcessor never sets it for multi).
  proto::Err err = proto::Err::kOk;
  std::vector<OpResult> results;  // one per op; none for create/closeSession
  std::vector<WatchTrigger> triggers;
};

// `with_triggers` false: no watch triggers are collected (the caller holds
// no watch they could fire; saves copying paths and ACLs per op).
// `found`: for a lone setData (txn.type kSetData), its node as the caller
// has just looked it up in `tree` (LoneSetDataNode), so that the apply
// does not look it up again; nullptr: the apply looks it up.
ApplyResult Apply(tree::DataTree& tree, const Txn& txn, bool with_triggers = true, const tree::Node* found = nullptr);
// The same into `out` (overwritten; its vectors keep their capacity).
void ApplyTo(tree::DataTree& tree, const Txn& txn, bool with_triggers, const tree::Node* found, ApplyResult* out);

// The node a lone setData txn changes, looked up in `tree` (nullptr for
// any other txn, or when the node is absent): for Apply's `found`.
const tree::Node* LoneSetDataNode(const tree::DataTree& tree, const Txn& txn);

// Starts loading the tree's lines that applying `txn` will touch first (the
// index slots of a single op's path and parent; with `deep` their nodes and
// records, see DataTree::PrefetchPath). For a loop over committed txns: call
// it for the txns a few places ahead. Changes nothing.
void PrefetchForApply(const tree::DataTree& tree, const Txn& txn, bool deep);
// The step after `deep`: the stat pool entries of those nodes
// (DataTree::PrefetchStat; reads the nodes, so call it a txn or two after
// the deep step); `observer`, when not null, is told each node
// (ApplyObserver::Prefetch). Changes nothing.
class ApplyObserver;  // state_machine.h
void PrefetchStatForApply(const tree::DataTree& tree, const Txn& txn, const ApplyObserver* observer = nullptr);

// Whether `r` is what Apply must give for `t` when Preparer produced `t`
// against this very tree (the live pipeline; not replay over a fuzzy
// snapshot, where NodeExists / NoNode are expected): a single op succeeds
// unless it is an ErrorTxn (then r.err is its err); a multi whose ops all
// passed prepare has every result kOk; a failed multi applies nothing by
// construction; createSession / closeSession report nothing to compare.
bool AppliedAsPrepared(const Txn& t, const ApplyResult& r);
// r.err, or for a multi its first error: for messages.
proto::Err FirstApplyError(const ApplyResult& r);

// The first non-kOk error among a multi's results (ZooKeeper's rc.err);
// kOk when all succeeded.
proto::Err FirstMultiError(const ApplyResult& r);

// MultiResponse for a kMulti ApplyResult.
proto::MultiResponse ToMultiResponse(const ApplyResult& r);

}  // namespace aviary::txn
