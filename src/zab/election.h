// Fast leader election (ZooKeeper's FastLeaderElection.lookForLeader and
// its WorkerReceiver), as a pure state machine owned by zab::Node.
//
// Facts followed (FastLeaderElection.java, branch-3.8):
//  - a vote is (leader, zxid, peer epoch) ordered by totalOrderPredicate:
//    higher peer epoch, then higher zxid, then higher id; only voters can
//    be proposed;
//  - each round bumps the logical clock (election epoch); a notification
//    from a later round resets the received set and adopts the better of
//    it and our initial vote; earlier rounds are ignored (and answered);
//  - the round ends when a quorum of voters sent the same vote as our
//    proposal and no better one arrives within finalizeWait;
//  - FOLLOWING/LEADING notifications let a server join an established
//    leader: a quorum of them naming the same (leader, peer epoch) and the
//    leader itself saying LEADING (checkLeader);
//  - silence for the notification timeout resends our proposal, doubling
//    the timeout up to maxNotificationInterval.
// Aviary's one departure (docs/design/zab.md "Election", COMPATIBILITY.md):
// the host reports each voter's election channel going down (a connect
// failed, the connection closed) or up. Once a quorum agrees on our proposal
// and every other voter has sent that same vote or had its channel go down
// since this round began (and sent nothing since), no vote is left to wait
// for: the round ends at once instead of after finalizeWait.
// Invariants: recvset_ and outofelection_ hold at most one vote per member;
// down_ holds only voters other than ourselves.
#pragma once

#include <map>
#include <set>
#include <vector>

#include "zab/types.h"

namespace aviary::zab {

struct Vote {
  ServerId leader = kNone;
  Zxid zxid = kNone;
  int64_t election_epoch = 0;
  int64_t peer_epoch = kNone;
  PeerState state = PeerState::kLooking;
};

class Election {
 public:
  explicit Election(const Config& config);

  // A new round (lookForLeader): init_* is this server's own candidacy.
  void Start(int64_t now_ms, Zxid last_zxid, int64_t current_epoch, std::vector<NotificationOut>* out);
  // A notification while LOOKING. Returns the final vote when the round ends.
  std::optional<Vote> OnNotification(ServerId from, const Notification& n, int64_t now_ms,
                                     std::vector<NotificationOut>* out);
  std::optional<Vote> OnTick(int64_t now_ms, std::vector<NotificationOut>* out);
  // The host's election channel to `sid` went down or up. Returns the final
  // vote when the round ends because of it (only while finalizing).
  std::optional<Vote> OnPeerChannel(ServerId sid, bool up);

  // Answer to a notification while not LOOKING (WorkerReceiver).
  static Notification Answer(const Vote& current, PeerState state, const std::string& config_text);

  const Vote& proposal() const { return proposal_; }
  int64_t logical_clock() const { return logical_clock_; }
  bool IsVoter(ServerId id) const { return voters_.count(id) != 0; }
  bool HasQuorum(const std::set<ServerId>& ids) const;
  // A quorum of `voters` distinct voters (the caller counted only voters).
  bool HasQuorumOf(size_t voters) const { return voters * 2 > voters_.size(); }

 private:
  bool Better(ServerId id, Zxid zxid, int64_t epoch, ServerId cur_id, Zxid cur_zxid, int64_t cur_epoch) const;
  void SendProposal(std::vector<NotificationOut>* out);
  void Update(ServerId leader, Zxid zxid, int64_t epoch);
  std::optional<Vote> OnLooking(ServerId from, const Notification& n, int64_t now_ms,
                                std::vector<NotificationOut>* out);
  std::optional<Vote> OnEstablished(ServerId from, const Notification& n);
  bool QuorumFor(const std::map<ServerId, Vote>& votes, const Vote& target) const;
  bool CheckLeader(const std::map<ServerId, Vote>& votes, ServerId leader, int64_t election_epoch) const;
  Vote Final() const;
  // Every voter but us sent a vote equal to our proposal or is down_.
  bool NothingToWaitFor() const;

  const Config& config_;
  std::set<ServerId> voters_;
  int64_t logical_clock_ = 0;
  Vote init_;
  Vote proposal_;
  std::map<ServerId, Vote> recvset_;
  std::map<ServerId, Vote> outofelection_;
  int64_t interval_ms_ = 0;
  int64_t resend_at_ms_ = 0;
  int64_t finalize_at_ms_ = kNone;  // kNone: not finalizing
  std::set<ServerId> down_;         // voters whose channel went down this round
};

}  // namespace aviary::zab
