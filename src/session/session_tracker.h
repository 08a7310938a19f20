// SessionTracker: the server's table of client sessions and their expiry.
//
// Owns: session records (id, negotiated timeout, expiry bucket, closing flag),
// ZooKeeper-style expiry buckets, the session-id counter and the password
// scheme: keyed (standalone: SipHash with the server's secret) or ZooKeeper's
// (ensemble: derived from the id alone, so every member can check it).
// Threading: none inside; used only from the server's single core thread.
// No clocks: every time is an int64 milliseconds value passed in (`now_ms`),
// expected to come from one monotonic clock.
//
// Expiry model (ZooKeeper's ExpiryQueue): a session touched at `now` with
// timeout `t` expires at bucket time ((now + t) / tick + 1) * tick, i.e. the
// next multiple of tick strictly after now + t. Buckets are keyed by that
// time; a touch moves the session to its new bucket (O(log B) in the number
// of live buckets, B <= max_timeout / tick + 2, so effectively constant).
// PopExpired(now) removes every bucket whose time is <= now and marks its
// sessions closing; a closing session stays in the table (Find works) until
// Remove(), but can no longer be touched.
//
// Invariants: every non-closing session is in exactly one bucket, closing
// sessions are in none; no bucket is empty; Add never grows size() past
// max_sessions (Restore may, see there).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace aviary::session {

// How session passwords are made (PasswordFor / CheckPassword).
enum class PasswordScheme {
  kKeyed,      // SipHash-2-4-128 keyed from the server's secret: unguessable
  kZooKeeper,  // ZooKeeperServer.generatePasswd: any ensemble member can check it
};

struct Session {
  int64_t id = 0;
  int64_t expiry_ms = 0;   // bucket time; for closing sessions the last one
  int32_t timeout_ms = 0;  // negotiated timeout the session was added with
  bool closing = false;
};

class SessionTracker {
 public:
  static constexpr size_t kPasswordLen = 16;

  // tick_ms < 1 is treated as 1; max_timeout_ms < min_timeout_ms as min.
  SessionTracker(int64_t server_id, int32_t tick_ms, int32_t min_timeout_ms, int32_t max_timeout_ms, uint64_t secret,
                 size_t max_sessions);
  // Not copyable (the expiry lists link entries by address); moving keeps
  // every entry where it is.
  SessionTracker(const SessionTracker&) = delete;
  SessionTracker& operator=(const SessionTracker&) = delete;
  SessionTracker(SessionTracker&&) = default;
  SessionTracker& operator=(SessionTracker&&) = default;

  // ZooKeeper's SessionTrackerImpl.initializeNextSessionId:
  // ((now_ms << 24) >>> 8) | (server_id << 56), bumped by one if it equals
  // Long.MIN_VALUE (the container "ephemeral owner" marker).
  static int64_t InitialSessionId(int64_t server_id, int64_t now_ms);

  // The first call seeds the counter with InitialSessionId(server_id, now_ms);
  // every call returns the counter and then increments it (now_ms is ignored
  // after the first call). Never returns Long.MIN_VALUE or 0.
  int64_t NextSessionId(int64_t now_ms);

  // 16 bytes, deterministic in session_id and the scheme. kKeyed (the
  // default): SipHash-2-4-128 keyed from the secret, not guessable without
  // it (strength bounded by the 64-bit secret). kZooKeeper: java.util.Random
  // seeded with id ^ 0xB3415C00 (session/java_random.h), as every ZooKeeper
  // server computes it: anyone who knows the id can.
  std::string PasswordFor(int64_t session_id) const;
  // Constant-time comparison against PasswordFor(session_id).
  bool CheckPassword(int64_t session_id, std::string_view passwd) const;

  void set_password_scheme(PasswordScheme s) { scheme_ = s; }
  PasswordScheme password_scheme() const { return scheme_; }

  // Clamp a client's requested timeout into [min_timeout_ms, max_timeout_ms].
  int32_t Negotiate(int32_t requested_ms) const;

  // Starts tracking `id` and schedules its expiry from now_ms. False (and no
  // change) when max_sessions are tracked already or `id` is tracked.
  bool Add(int64_t id, int32_t timeout_ms, int64_t now_ms);
  // A committed session coming back at recovery: as Add, but never refused
  // for max_sessions (committed state is not dropped; the cap only refuses
  // new sessions, so after a restart with a lower cap size() may exceed it
  // until sessions close). False (no change) only if `id` is tracked.
  bool Restore(int64_t id, int32_t timeout_ms, int64_t now_ms);
  // Re-schedules expiry from now_ms with the session's timeout. False if the
  // session is unknown or closing.
  bool Touch(int64_t id, int64_t now_ms);
  // As Touch, and from now on uses `timeout_ms` (a reconnect renegotiates
  // the timeout, as ZooKeeper's revalidateSession does).
  bool Touch(int64_t id, int64_t now_ms, int32_t timeout_ms);
  // Marks closing and takes the session out of the expiry buckets. No-op for
  // unknown ids.
  void SetClosing(int64_t id);
  // Forgets the session entirely. No-op for unknown ids.
  void Remove(int64_t id);
  // nullptr if unknown. The pointer is valid until the next non-const call.
  const Session* Find(int64_t id) const;

  // Sessions of every bucket with time <= now_ms, ordered by bucket time then
  // id; they are marked closing and leave the buckets.
  std::vector<int64_t> PopExpired(int64_t now_ms);
  // Time of the earliest non-empty bucket: the earliest now_ms at which
  // PopExpired can return something. INT64_MAX when no session can expire.
  int64_t NextExpiryCheck() const;

  // Bucket time for a touch at now_ms with timeout_ms (exposed for tests and
  // for callers that want to report the expiry).
  int64_t ExpiryFor(int64_t now_ms, int32_t timeout_ms) const;

  // --- monitoring ---
  size_t size() const { return sessions_.size(); }
  size_t closing_count() const { return closing_; }
  size_t bucket_count() const { return buckets_.size(); }
  size_t max_sessions() const { return max_sessions_; }
  int32_t tick_ms() const { return tick_ms_; }
  int32_t min_timeout_ms() const { return min_timeout_ms_; }
  int32_t max_timeout_ms() const { return max_timeout_ms_; }
  // Every session, in no particular order.
  void ForEach(const std::function<void(const Session&)>& fn) const;
  // (bucket time, ids sorted) for every bucket, by time: for "dump"-style output.
  std::vector<std::pair<int64_t, std::vector<int64_t>>> Buckets() const;

 private:
  // A session and its links in its expiry bucket's list (intrusive: an
  // idle session costs one hash-map node, no bucket-set node; entries do
  // not move, std::unordered_map keeps its nodes in place).
  struct Entry {
    Session s;
    Entry* prev = nullptr;
    Entry* next = nullptr;
  };
  void Insert(int64_t id, int32_t timeout_ms, int64_t now_ms);
  void Schedule(Entry& e, int64_t expiry_ms);
  void Unschedule(Entry& e);
  static std::vector<int64_t> SortedIds(const Entry* head);

  int64_t server_id_;
  int32_t tick_ms_;
  int32_t min_timeout_ms_;
  int32_t max_timeout_ms_;
  uint64_t key0_;
  uint64_t key1_;
  size_t max_sessions_;
  PasswordScheme scheme_ = PasswordScheme::kKeyed;

  bool id_seeded_ = false;
  int64_t next_id_ = 0;
  size_t closing_ = 0;
  std::unordered_map<int64_t, Entry> sessions_;
  std::map<int64_t, Entry*> buckets_;  // bucket time -> first entry of its list (never null)
};

}  // namespace aviary::session
