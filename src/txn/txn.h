// Transactions: the deterministic, fully validated form of a write. Prepare
// (prepare.h) turns a client request into a Txn; Apply (apply.h) is a pure
// function of (tree, txn). Every write - including session creation and
// close, container/TTL cleanup and failed writes (ErrorTxn) - is a Txn with
// its own zxid, exactly as ZooKeeper numbers them.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "proto/records.h"

namespace aviary::txn {

enum class NodeKind : int8_t { kPersistent, kEphemeral, kContainer, kTtl };

struct CreateTxn {
  std::string path;  // final path (sequential suffix already applied)
  std::string data;
  proto::AclList acl;  // already fixed up (auth scheme expanded)
  NodeKind kind = NodeKind::kPersistent;
  int64_t ephemeral_owner = 0;  // session id for kEphemeral, 0 otherwise
  int64_t ttl_ms = 0;           // for kTtl
  int32_t parent_cversion = 0;  // parent's cversion after this create
  bool data_null = false;       // created with a null buffer (reads answer length -1)
};
struct DeleteTxn {
  std::string path;
};
struct SetDataTxn {
  std::string path;
  std::string data;
  int32_t version = 0;  // the node's new version
  bool data_null = false;
};
struct SetAclTxn {
  std::string path;
  proto::AclList acl;
  int32_t version = 0;  // the node's new aversion
};
struct CheckTxn {
  std::string path;
  int32_t version = 0;
};
struct CreateSessionTxn {
  int32_t timeout_ms = 0;
};
struct CloseSessionTxn {
  // Empty in every txn Aviary prepares: apply sweeps the session's ephemerals
  // from the tree's index. Logs written before that listed them here; apply
  // and replay still honour such a list.
  std::vector<std::string> paths_to_delete;
};
struct ErrorTxn {
  proto::Err err = proto::Err::kOk;
};

// One operation. `type` is the request's OpCode (kCreate, kCreate2,
// kCreateContainer, kCreateTtl, kDelete, kDeleteContainer, kSetData, kSetAcl,
// kCheck, kCreateSession, kCloseSession, kError).
struct Op {
  proto::OpCode type = proto::OpCode::kError;
  std::variant<CreateTxn, DeleteTxn, SetDataTxn, SetAclTxn, CheckTxn, CreateSessionTxn, CloseSessionTxn, ErrorTxn> body;
};

struct Txn {
  int64_t session_id = 0;
  int32_t cxid = 0;
  int64_t zxid = 0;
  int64_t time_ms = 0;                         // wall clock at prepare, becomes ctime/mtime
  proto::OpCode type = proto::OpCode::kError;  // kMulti for multi
  Op op;                                       // when type != kMulti
  std::vector<Op> multi;                       // when type == kMulti (failed multi: all kError)
  // ZooKeeper's TxnDigest (version 2): the tree digest after this txn, when
  // it came with one (a PROPOSAL, or predicted by this leader). Not kept by
  // Aviary's log; compared after apply (zkformat::DigestChecker).
  std::optional<int64_t> zk_digest;
  // Set by a standalone server's log (server/durable_committer.h, early
  // replies): its reply already went to the client when it became durable.
  // Never logged.
  bool replied = false;
};

// A connection's identities: an immutable list shared between connections
// until one of them changes its own (copy on write). Connections from one
// address with no other authentication share one list (the core interns
// them: idle-session memory, issue 10: 16 bytes a connection instead of a
// vector and its 80-byte block).
class IdList {
 public:
  IdList() = default;
  IdList(std::vector<proto::Id> ids)  // NOLINT: reads like the vector it replaced
      : p_(ids.empty() ? nullptr : std::make_shared<const std::vector<proto::Id>>(std::move(ids))) {}
  IdList(std::initializer_list<proto::Id> ids) : IdList(std::vector<proto::Id>(ids)) {}
  IdList& operator=(std::vector<proto::Id> ids) { return *this = IdList(std::move(ids)); }

  const std::vector<proto::Id>& vec() const { return p_ ? *p_ : Empty(); }
  std::vector<proto::Id>::const_iterator begin() const { return vec().begin(); }
  std::vector<proto::Id>::const_iterator end() const { return vec().end(); }
  size_t size() const { return p_ ? p_->size() : 0; }
  bool empty() const { return size() == 0; }
  const proto::Id& front() const { return vec().front(); }
  const proto::Id& operator[](size_t i) const { return vec()[i]; }
  // Appends to this list only (copies a shared list first).
  void push_back(proto::Id id) {
    auto fresh = std::make_shared<std::vector<proto::Id>>();
    fresh->reserve(size() + 1);
    if (p_) fresh->assign(p_->begin(), p_->end());
    fresh->push_back(std::move(id));
    p_ = std::move(fresh);
  }
  // Connections holding this exact list (tests, interning).
  long use_count() const { return p_.use_count(); }
  bool operator==(const IdList& o) const { return vec() == o.vec(); }
  bool operator==(const std::vector<proto::Id>& o) const { return vec() == o; }

 private:
  static const std::vector<proto::Id>& Empty() {
    static const std::vector<proto::Id> empty;
    return empty;
  }
  std::shared_ptr<const std::vector<proto::Id>> p_;
};

// Who is asking: the session and the identities it has authenticated as.
// The connection's ("ip", "<address>") identity is always in `ids`.
struct SessionCtx {
  int64_t session_id = 0;
  IdList ids;
  bool is_super = false;
  // kOk, or the error an ephemeral create (CreateMode EPHEMERAL or
  // EPHEMERAL_SEQUENTIAL, alone or in a multi) of this session fails with:
  // ZooKeeper's validateCreateRequest for a session that is not global
  // (local sessions: kSessionExpired, or kEphemeralOnLocalSession when the
  // upgrade was refused on the member the client is connected to).
  proto::Err ephemeral_err = proto::Err::kOk;
};

}  // namespace aviary::txn
