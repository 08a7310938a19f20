// StateMachine: the replicated state of a server and the one function that
// changes it. It owns the data tree and the session table (session id ->
// negotiated timeout, as ZooKeeper's ZKDatabase.sessionsWithTimeouts) and
// the zxid of the last txn applied; Apply(txn) is the only way committed
// txns reach them, live on the leader and in standalone (Core), at recovery
// (storage::Recover replaying the log) and, later, on followers (ZAB
// COMMIT / DIFF). What Apply returns - per-op results, watch triggers and
// the session created or closed - is what the serving side (Core) turns
// into replies, watch events and its session tracker's changes.
//
// Who prepared the txn decides how Apply treats its outcome:
//  - kStrict (default): this server prepared it against this very state
//    (the leader, standalone). Apply checks (AV_CHECK: the replicas would
//    diverge otherwise) that zxids follow (+1, or the first of a higher
//    epoch), that every txn applies with the outcome prepare decided
//    (txn::AppliedAsPrepared) and that a createSession names a new session;
//  - kLearner: the leader prepared it (a follower or observer applying the
//    leader's COMMITs, DIFF or TRUNC reload). Nothing a peer sent is checked
//    with AV_CHECK: an outcome other than the one the txn records
//    (NodeExists, NoNode, BadVersion, a createSession of a live session, a
//    zxid that does not follow) is applied as ZooKeeper's
//    DataTree.processTxn does (the error is the result), logged at WARN and
//    counted (mismatches()); Applied::as_prepared says so to the caller.
//    After a SNAP install the leader's snapshot may be fuzzy (ZooKeeper
//    serialises it while it applies txns), so txns up to SetFuzzyThrough's
//    zxid are replayed as in fuzzy mode below and neither warned about nor
//    counted;
//  - fuzzy (SetFuzzy(true), overrides both; recovery): the tree came from a
//    fuzzy snapshot (written while txns were applied) and the txns after its
//    zxid are replayed over it; some of them are already partly reflected.
//    Apply then makes the replay converge on the live state whatever moment
//    each node was copied at: a successful multi is applied op by op; a
//    delete whose node has children removes that subtree first (the live
//    node had none: they are from the snapshot's "future" and later txns
//    re-create them); a create of any kind that finds its node present
//    raises the parent's cversion/pzxid. None of these fix-ups can trigger
//    on an exact tree. Results are not checked (NodeExists / NoNode are
//    expected).
//
// No clocks, no I/O. Single-threaded: used by the one thread that owns it
// (the core thread; recovery before the server starts).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <unordered_map>

#include "tree/data_tree.h"
#include "txn/apply.h"
#include "txn/txn.h"

namespace aviary::txn {

// The change a txn made to the session table.
struct SessionChange {
  enum class Kind : uint8_t { kNone, kCreated, kClosed };
  Kind kind = Kind::kNone;
  int64_t session_id = 0;
  int32_t timeout_ms = 0;  // kCreated
};

struct Applied {
  ApplyResult result;  // results and watch triggers (fuzzy replay: not meaningful)
  SessionChange session;
  // kLearner: false when the outcome differs from what the txn records
  // (outside the fuzzy window). Always true in the other modes.
  bool as_prepared = true;
};

enum class ApplyMode : uint8_t { kStrict, kLearner };

// Watches the tree around every strict apply (zkformat::DigestChecker keeps
// ZooKeeper's tree digest with it): BeforeApply just before the txn changes
// the tree, AfterApply right after. TreeChanged when the tree changed
// without a strict apply (a snapshot loaded, a fuzzy replay): what was
// tracked is stale. Called on the thread that applies. `node`: for a lone
// setData, its node as the state machine has just looked it up for the
// apply (txn::LoneSetDataNode), so an observer need not look it up again;
// nullptr for any other txn (or when the node is absent).
class ApplyObserver {
 public:
  virtual ~ApplyObserver() = default;
  virtual void BeforeApply(const tree::DataTree& tree, const Txn& t, const tree::Node* node) = 0;
  virtual void AfterApply(const tree::DataTree& tree, const Txn& t) = 0;
  virtual void TreeChanged() = 0;
  // A hint: `node` is about to be changed by a txn applied soon (start
  // loading what BeforeApply will read for it). Changes nothing.
  virtual void Prefetch(const tree::Node& /*node*/) const {}
};

class StateMachine {
 public:
  // Owns an empty tree.
  StateMachine();
  // Uses `tree` (not owned; it must outlive this), for tools and tests
  // that recover a bare tree.
  explicit StateMachine(tree::DataTree* tree);
  StateMachine(const StateMachine&) = delete;
  StateMachine& operator=(const StateMachine&) = delete;

  Applied Apply(const Txn& t);
  // The same into `out`, whose vectors keep their capacity (an applying
  // loop that reuses one Applied allocates nothing for a txn's results).
  void Apply(const Txn& t, Applied* out);
  // For an applying loop, a txn or two before applying `t` (after
  // txn::PrefetchForApply(deep) of it had time to load its nodes): starts
  // loading their stat pool entries and what the observer keeps for them.
  // Changes nothing.
  void PrefetchStats(const Txn& t) const;

  // false: Apply collects no watch triggers (ApplyResult::triggers stays
  // empty) - the caller holds no watch any event could fire. Default true.
  void SetWatchTriggers(bool on) { watch_triggers_ = on; }
  void SetFuzzy(bool fuzzy) { fuzzy_ = fuzzy; }
  bool fuzzy() const { return fuzzy_; }
  void SetMode(ApplyMode mode) { mode_ = mode; }
  ApplyMode mode() const { return mode_; }
  // kLearner after installing a leader's snapshot: txns with zxid <= `zxid`
  // may already be reflected in it (kFuzzyOpen: every txn until set again).
  void SetFuzzyThrough(int64_t zxid) { fuzzy_through_ = zxid; }
  int64_t fuzzy_through() const { return fuzzy_through_; }
  static constexpr int64_t kFuzzyOpen = INT64_MAX;
  // kLearner: txns applied with an outcome other than the recorded one.
  int64_t mismatches() const { return mismatches_; }

  tree::DataTree& tree() { return *tree_; }
  const tree::DataTree& tree() const { return *tree_; }
  // Live sessions (id -> timeout ms): from their createSession's apply to
  // their closeSession's. A hash map (one 32-byte node a session, not a
  // std::map's 64: idle-session memory, issue 10): iteration order is
  // unspecified, sort where it shows (snapshots, dumps).
  using SessionMap = std::unordered_map<int64_t, int32_t>;
  const SessionMap& sessions() const { return sessions_; }
  // Loading a snapshot (or a recovery repair): sets a session's timeout.
  void PutSession(int64_t id, int32_t timeout_ms) { sessions_[id] = timeout_ms; }
  void ClearSessions() { sessions_.clear(); }
  int64_t last_zxid() const { return last_zxid_; }
  // Loading a snapshot: the zxid the tree reflects.
  void set_last_zxid(int64_t zxid) {
    last_zxid_ = zxid;
    if (observer_ != nullptr) observer_->TreeChanged();
  }
  // Not owned; nullptr to stop. Before the applying thread starts.
  void SetObserver(ApplyObserver* observer) { observer_ = observer; }

 private:
  ApplyResult ApplyFuzzy(const Txn& t);
  void ApplyAsLearner(const Txn& t, Applied& out);
  SessionChange ApplySessions(const Txn& t, bool tolerant, bool* fresh);

  std::unique_ptr<tree::DataTree> owned_;
  tree::DataTree* tree_;
  SessionMap sessions_;
  int64_t last_zxid_ = 0;
  bool fuzzy_ = false;
  bool watch_triggers_ = true;
  ApplyMode mode_ = ApplyMode::kStrict;
  int64_t fuzzy_through_ = 0;
  int64_t mismatches_ = 0;
  ApplyObserver* observer_ = nullptr;
};

// next follows prev in one log: prev + 1, or the first of a higher epoch
// (zxid >> 32).
inline bool ZxidFollows(int64_t prev, int64_t next) { return next == prev + 1 || (next >> 32) > (prev >> 32); }

}  // namespace aviary::txn
