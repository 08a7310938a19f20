// Read requests against the tree (ZooKeeper's FinalRequestProcessor read
// paths): exists, getData, getChildren, getChildren2, getACL,
// getEphemerals, getAllChildrenNumber, multiRead. Pure, no side effects
// (watch registration is the caller's: ZooKeeper registers an exists watch
// even when the answer is kNoNode, and data/child watches only on success).
// Reads see the applied tree only, never pending txns.
#pragma once

#include <cstddef>
#include <cstdint>

#include "proto/records.h"
#include "tree/data_tree.h"
#include "txn/txn.h"

namespace aviary::txn {

struct ReadOutcome {
  proto::Err err = proto::Err::kOk;
  proto::ResponseBody body;  // Empty on error (except multiRead, see below)
};

// Permissions: exists READ when the node exists (ZooKeeper 3.8.4 / 3.9.2,
// ZOOKEEPER-2590; a missing node is kNoNode); getData/getChildren/getChildren2/
// getAllChildrenNumber READ; getACL READ or ADMIN (without ADMIN, digest ids
// are shown as "user:x"). multiRead: err kOk and a MultiResponse with one
// result per op (kGetData / kGetChildren, or kError with the op's error); an
// op other than getData/getChildren gives kMarshallingError for the whole
// request; the ops' watch flags are ignored (ZooKeeper's server rebuilds
// them as Op.getData/getChildren, which carry none). Children lists are
// sorted. Other opcodes: kUnimplemented. A body not matching the opcode:
// kMarshallingError.
//
// Replies are bounded while they are built: when the encoded reply (reply
// header included) would pass `max_reply_bytes`, nothing more is copied and
// the whole request fails with kMarshallingError (Empty body). Apache
// ZooKeeper has no such bound: it sends the reply whatever its size.
ReadOutcome ProcessRead(const tree::DataTree& tree, const proto::Request& req, const SessionCtx& ctx,
                        size_t max_reply_bytes = SIZE_MAX);

// getData without building its reply: the node to answer from (the reply
// is its data and Stat), or nullptr with *err set - the same checks, errors
// and bound as ProcessRead's getData.
const tree::Node* GetDataNode(const tree::DataTree& tree, const proto::GetDataRequest& req, const SessionCtx& ctx,
                              size_t max_reply_bytes, proto::Err* err);

// Encoded size of a reply header (xid, zxid, err).
inline constexpr size_t kReplyHeaderBytes = 16;

}  // namespace aviary::txn
