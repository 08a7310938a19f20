// IdleSequencer: the sequencer of an ensemble member with no leader, not
// serving or serving read-only (see sequencer.h, core_read_only.cc). As
// ZooKeeper, which runs no leader or learner ZooKeeperServer then: it
// prepares, numbers, forwards and expires nothing (the sessions of the
// ensemble are the next leader's to expire). Core never hands it a write:
// it refuses them first (NotReadOnly), and makes read-only sessions itself.
//
// Threads: the core thread only.
#pragma once

#include <cstdint>
#include <vector>

#include "base/log.h"
#include "server/sequencer.h"

namespace aviary::server {

class IdleSequencer final : public Sequencer {
 public:
  int64_t Write(const WriteRequest& w, int64_t) override {
    AV_LOG(kDebug, "no leader: dropping a write of session {:#x}", w.session_id);
    return 0;
  }
  void CreateSession(int64_t session_id, int32_t, int64_t) override {
    AV_LOG(kDebug, "no leader: dropping the creation of session {:#x}", session_id);
  }
  void Forwarded(const ForwardedRequest& r, int64_t) override {
    AV_LOG(kDebug, "no leader: dropping a forwarded request of session {:#x}", r.session_id);
  }
  std::vector<int64_t> Tick(int64_t, int64_t) override { return {}; }
  void Applied(int64_t) override {}
  void Reset(int64_t) override {}
  int64_t last_proposed() const override { return 0; }
};

}  // namespace aviary::server
