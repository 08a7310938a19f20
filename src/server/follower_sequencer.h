// FollowerSequencer: the sequencer of a follower or observer (see
// sequencer.h). Prepares nothing and assigns no zxid: each write, sync(),
// session creation and close goes to the leader through the Forwarder as a
// ForwardedRequest (session id, cxid, type, jute body bytes, auth ids); the
// committed txn comes back through the Committer and Core matches it to the
// waiting write by (session id, cxid). Session expiry and container / TTL
// sweeps are the leader's: Tick does nothing; the sessions this server saw
// activity on are collected for the leader (ZAB: PING) by TakeTouched.
//
// Threads: the core thread only. The Forwarder is not owned.
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "server/sequencer.h"

namespace aviary::server {

class FollowerSequencer final : public Sequencer {
 public:
  explicit FollowerSequencer(Forwarder* forwarder) : forwarder_(forwarder) {}

  int64_t Write(const WriteRequest& w, int64_t wall_ms) override;
  void CreateSession(int64_t session_id, int32_t timeout_ms, int64_t wall_ms) override;
  // sync() goes to the leader as a REQUEST of type sync, in order with the
  // writes (the leader answers SYNC once what it proposed before is committed).
  // (Core answers it at the leader's SYNC: Core::OnSyncDone.)
  void ForwardSync(const WriteRequest& w) { Write(w, 0); }
  void Forwarded(const ForwardedRequest& r, int64_t wall_ms) override;
  std::vector<int64_t> Tick(int64_t, int64_t) override { return {}; }
  void Touched(int64_t session_id) override { touched_.insert(session_id); }
  void Applied(int64_t) override {}
  void Reset(int64_t) override {}
  int64_t last_proposed() const override { return 0; }

  // The sessions touched since the last call (for the leader), sorted.
  std::vector<int64_t> TakeTouched();

 private:
  Forwarder* forwarder_;
  std::unordered_set<int64_t> touched_;
};

}  // namespace aviary::server
