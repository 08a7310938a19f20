// The simulator's safety checker. It sees every txn a simulated server
// applies and every client operation, and records a failure (a string)
// when a property breaks:
//  1. all servers apply prefixes of ONE sequence G of (zxid, txn): each apply
//     must be the successor of that server's position in G (or extend G);
//     a server's position only moves back by a restart or a SNAP, to a zxid
//     that is in G;
//  2. no acknowledged write is lost: an acked write is in G (it was applied
//     where it was acked) and stays there (1 forbids replacing it);
//  3. linearizable writes: G's order respects real time (a write acked
//     before another was invoked precedes it in G);
//  4. sequentially consistent reads: a client's reads observe states that
//     never go back in G and include the client's own acked writes, and the
//     value read is the value G gives at that state.
// Single-threaded; owned by sim::World.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "quorum/messages.h"

namespace aviary::sim {

using quorum::ServerId;
using quorum::Zxid;

struct Txn {
  int64_t write_id = 0;  // unique per client write
  std::string key;
  std::string value;
};
std::string EncodeTxn(const Txn& t);
bool DecodeTxn(const std::string& bytes, Txn* t);

class Checker {
 public:
  void OnApply(ServerId server, Zxid zxid, const std::string& bytes);
  void OnReset(ServerId server, Zxid zxid);  // restart or SNAP: state is G through zxid
  void OnWriteInvoked(int64_t write_id, int64_t now_ms);
  void OnWriteAcked(int64_t write_id, int64_t now_ms);
  void OnRead(int client, const std::string& key, const std::string& value, Zxid at, int64_t now_ms);
  // Client-side session state: highest zxid the client has seen.
  Zxid ClientSeen(int client) const;
  void NoteClientSeen(int client, Zxid zxid);
  void Finish();  // end-of-run checks (2, 3, 4)

  const std::vector<std::string>& failures() const { return failures_; }
  size_t committed() const { return seq_.size(); }
  size_t acked() const { return acked_.size(); }
  Zxid last() const { return seq_.empty() ? 0 : seq_.back().first; }
  void Fail(std::string what);

 private:
  struct Read {
    int client;
    std::string key, value;
    Zxid at;
  };
  int64_t IndexOf(Zxid zxid) const;  // -1 for zxid 0, -2 if unknown

  std::vector<std::pair<Zxid, std::string>> seq_;  // G
  std::map<Zxid, size_t> index_;
  std::map<ServerId, int64_t> position_;  // index in G of the last applied txn
  std::map<int64_t, int64_t> invoked_ms_, acked_;
  std::map<int64_t, Zxid> write_zxid_;
  std::map<int, Zxid> client_seen_;
  std::vector<Read> reads_;
  std::vector<std::string> failures_;
};

}  // namespace aviary::sim
