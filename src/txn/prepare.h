// Preparer: turns client write requests (and session/container events) into
// fully validated Txns, as ZooKeeper's PrepRequestProcessor. Validation sees
// the tree *plus* the pending changes of every txn prepared but not yet
// applied (Overlay), so requests can be prepared ahead of apply (group
// commit, replication). Single-threaded; the tree must only change through
// Apply of txns this Preparer produced (or Reset() after anything else).
// Every returned Txn carries the given zxid and must be logged and applied
// in zxid order, then acknowledged with Applied(zxid).
// Session checks (expired/moved, global vs local) are the caller's job.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "proto/records.h"
#include "tree/data_tree.h"
#include "txn/overlay.h"
#include "txn/quota_check.h"
#include "txn/txn.h"

namespace aviary::txn {

struct PrepareOptions {
  int32_t max_buffer = proto::kDefaultMaxBuffer;  // jute.maxbuffer
  bool extended_types_enabled = false;            // zookeeper.extendedTypesEnabled (TTL nodes)
  std::string super_digest;                       // "super:<base64>" or empty
  // The log's size bound (storage/limits.h, set by the server): a request
  // whose ops would take more than max_ops_bytes of log, as counted by
  // op_bytes, becomes an error txn with kBadArguments (in a multi: the op
  // that crosses the bound fails). Without op_bytes there is no bound.
  std::function<size_t(const Op&)> op_bytes = nullptr;
  int64_t max_ops_bytes = 0;
  // zookeeper.enforceQuota: creates and setData past a quota's hard limit
  // fail with kQuotaExceeded, soft limits are logged (txn/quota_check.h).
  bool enforce_quota = false;
  // Where hard-limit refusals are counted (not owned; may be null).
  QuotaErrorCounts* quota_errors = nullptr;
};

class Preparer {
 public:
  Preparer(const tree::DataTree& tree, PrepareOptions opts);

  // Write requests: create, create2, createContainer, createTTL, delete,
  // setData, setACL, check, multi. A failing single request becomes
  // type kError / ErrorTxn{err} (it still consumes its zxid). A failing multi
  // stays kMulti with every op kError: ops before the failing one carry kOk,
  // the failing one its error, later ones kRuntimeInconsistency; none of its
  // changes enter the overlay. A body that does not match the opcode, a
  // multi holding a read op, or an unsupported opcode gives
  // kError / kMarshallingError (kUnimplemented for non-write opcodes). A txn
  // over the size bound (PrepareOptions::max_ops_bytes) fails with
  // kBadArguments and changes nothing.
  Txn Prepare(const proto::Request& req, const SessionCtx& ctx, int64_t zxid, int64_t now_ms);
  // The same, moving the request's paths, data and ACLs into the txn
  // instead of copying them (the server's path: `req` is left valid but
  // with unspecified body contents; its header is untouched).
  Txn Prepare(proto::Request&& req, const SessionCtx& ctx, int64_t zxid, int64_t now_ms);

  Txn PrepareCreateSession(int64_t session, int32_t timeout_ms, int64_t zxid, int64_t now_ms);
  // The txn carries no paths (so its size does not grow with the session's
  // ephemerals): apply sweeps the session's ephemerals from the tree. The
  // overlay records their deletion as of tree + overlay (including ones
  // created by pending txns, excluding pending deletes).
  Txn PrepareCloseSession(int64_t session, int64_t zxid, int64_t now_ms, int32_t cxid = 0);
  // Container/TTL cleanup (session 0, cxid 0). As ZooKeeper: kOk only
  // re-checks that the node exists, has no children and is not a plain
  // ephemeral; otherwise kError / ErrorTxn{kNoNode | kNotEmpty | kBadVersion}
  // (special paths: kBadArguments). Expiry is the caller's (CleanupCandidates).
  Txn PrepareDeleteContainer(const std::string& path, int64_t zxid, int64_t now_ms);

  // Txns up to and including `zxid` are now applied to the tree.
  void Applied(int64_t zxid) {
    overlay_.Applied(zxid);
    quota_.Applied(zxid);
  }
  // Forget all pending changes (after loading a snapshot, on errors).
  void Reset() {
    overlay_.Clear();
    quota_.Clear();
  }
  size_t PendingRecords() const { return overlay_.size(); }
  // The Stat a client will see for `path` once every txn prepared so far is
  // applied (a setData's reply, known before it is applied); nullopt when
  // the node will not exist.
  std::optional<proto::Stat> StatAfterPrepared(std::string_view path) const {
    std::optional<NodeRec> r = overlay_.Get(path);
    if (!r) return std::nullopt;
    return tree::ToStat(r->stat, r->kind, r->child_count, static_cast<int32_t>(r->data_bytes));
  }
  const PrepareOptions& options() const { return opts_; }

 private:
  proto::Err PrepOp(proto::OpCode type, proto::RequestBody& body, const SessionCtx& ctx, int64_t zxid, int64_t now_ms,
                    Op* out);
  // The Prep* functions move what the txn keeps out of `r`.
  proto::Err PrepCreate(proto::OpCode type, proto::CreateRequest& r, const SessionCtx& ctx, int64_t zxid,
                        int64_t now_ms, Op* out);
  proto::Err PrepDelete(proto::DeleteRequest& r, const SessionCtx& ctx, int64_t zxid, Op* out);
  proto::Err PrepSetData(proto::SetDataRequest& r, const SessionCtx& ctx, int64_t zxid, int64_t now_ms, Op* out);
  proto::Err PrepSetAcl(const proto::SetAclRequest& r, const SessionCtx& ctx, int64_t zxid, Op* out);
  proto::Err PrepCheck(proto::CheckVersionRequest& r, const SessionCtx& ctx, Op* out);
  Txn PrepMulti(proto::MultiRequest& m, const SessionCtx& ctx, Txn txn);
  void PutDeleted(const std::string& path, int64_t zxid);
  // Adds the op's log bytes to *used; false when that passes the bound.
  bool WithinBound(const Op& op, int64_t* used) const;

  const tree::DataTree& tree_;
  PrepareOptions opts_;
  Overlay overlay_;
  QuotaGuard quota_;
  std::shared_ptr<const proto::AclList> last_acl_;  // the ACL of the last create (shared by a run of them)
};

// Appends ZooKeeper's sequential-node suffix, String.format("%010d", v).
void AppendSequenceSuffix(int32_t v, std::string* path);

}  // namespace aviary::txn
