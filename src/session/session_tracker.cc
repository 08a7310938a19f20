#include "session/session_tracker.h"

#include <algorithm>
#include <limits>

#include "session/java_random.h"
#include "session/siphash.h"

namespace aviary::session {
namespace {

constexpr int64_t kContainerOwner = std::numeric_limits<int64_t>::min();
constexpr std::string_view kPasswordDomain = "aviary.session.passwd.v1";

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

SessionTracker::SessionTracker(int64_t server_id, int32_t tick_ms, int32_t min_timeout_ms, int32_t max_timeout_ms,
                               uint64_t secret, size_t max_sessions)
    : server_id_(server_id),
      tick_ms_(std::max<int32_t>(tick_ms, 1)),
      min_timeout_ms_(min_timeout_ms),
      max_timeout_ms_(std::max(min_timeout_ms, max_timeout_ms)),
      key0_(secret),
      key1_(SplitMix64(secret ^ 0x5a3c96e1d2b4f087ULL)),
      max_sessions_(max_sessions) {}

int64_t SessionTracker::InitialSessionId(int64_t server_id, int64_t now_ms) {
  uint64_t t = (static_cast<uint64_t>(now_ms) << 24) >> 8;
  uint64_t id = t | (static_cast<uint64_t>(server_id) << 56);
  auto sid = static_cast<int64_t>(id);
  if (sid == kContainerOwner) ++sid;
  return sid;
}

int64_t SessionTracker::NextSessionId(int64_t now_ms) {
  if (!id_seeded_) {
    next_id_ = InitialSessionId(server_id_, now_ms);
    id_seeded_ = true;
  }
  while (next_id_ == 0 || next_id_ == kContainerOwner) {
    next_id_ = static_cast<int64_t>(static_cast<uint64_t>(next_id_) + 1);
  }
  int64_t id = next_id_;
  next_id_ = static_cast<int64_t>(static_cast<uint64_t>(next_id_) + 1);
  return id;
}

std::string SessionTracker::PasswordFor(int64_t session_id) const {
  if (scheme_ == PasswordScheme::kZooKeeper) return ZooKeeperPassword(session_id);
  std::string msg(kPasswordDomain);
  auto u = static_cast<uint64_t>(session_id);
  for (int i = 0; i < 8; ++i) msg.push_back(static_cast<char>(u >> (8 * i)));
  auto h = SipHash24x128(key0_, key1_, msg);
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

bool SessionTracker::CheckPassword(int64_t session_id, std::string_view passwd) const {
  std::string want = PasswordFor(session_id);
  if (passwd.size() != want.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < want.size(); ++i) diff |= static_cast<unsigned char>(want[i] ^ passwd[i]);
  return diff == 0;
}

int32_t SessionTracker::Negotiate(int32_t requested_ms) const {
  return std::clamp(requested_ms, min_timeout_ms_, max_timeout_ms_);
}

int64_t SessionTracker::ExpiryFor(int64_t now_ms, int32_t timeout_ms) const {
  return (FloorDiv(now_ms + timeout_ms, tick_ms_) + 1) * tick_ms_;
}

void SessionTracker::Schedule(Entry& e, int64_t expiry_ms) {
  Entry*& head = buckets_[expiry_ms];
  e.prev = nullptr;
  e.next = head;
  if (head != nullptr) head->prev = &e;
  head = &e;
  e.s.expiry_ms = expiry_ms;
}

void SessionTracker::Unschedule(Entry& e) {
  auto it = buckets_.find(e.s.expiry_ms);
  if (it == buckets_.end()) return;
  if (e.prev != nullptr) {
    e.prev->next = e.next;
  } else {
    it->second = e.next;
  }
  if (e.next != nullptr) e.next->prev = e.prev;
  e.prev = e.next = nullptr;
  if (it->second == nullptr) buckets_.erase(it);
}

std::vector<int64_t> SessionTracker::SortedIds(const Entry* head) {
  std::vector<int64_t> ids;
  for (const Entry* e = head; e != nullptr; e = e->next) ids.push_back(e->s.id);
  std::sort(ids.begin(), ids.end());
  return ids;
}

void SessionTracker::Insert(int64_t id, int32_t timeout_ms, int64_t now_ms) {
  Entry& e = sessions_[id];
  e.s.id = id;
  e.s.timeout_ms = timeout_ms;
  Schedule(e, ExpiryFor(now_ms, timeout_ms));
}

bool SessionTracker::Add(int64_t id, int32_t timeout_ms, int64_t now_ms) {
  if (sessions_.size() >= max_sessions_ || sessions_.contains(id)) return false;
  Insert(id, timeout_ms, now_ms);
  return true;
}

bool SessionTracker::Restore(int64_t id, int32_t timeout_ms, int64_t now_ms) {
  if (sessions_.contains(id)) return false;
  Insert(id, timeout_ms, now_ms);
  return true;
}

bool SessionTracker::Touch(int64_t id, int64_t now_ms) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.s.closing) return false;
  Entry& e = it->second;
  int64_t expiry = ExpiryFor(now_ms, e.s.timeout_ms);
  if (expiry != e.s.expiry_ms) {
    Unschedule(e);
    Schedule(e, expiry);
  }
  return true;
}

bool SessionTracker::Touch(int64_t id, int64_t now_ms, int32_t timeout_ms) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.s.closing) return false;
  it->second.s.timeout_ms = timeout_ms;
  return Touch(id, now_ms);
}

void SessionTracker::SetClosing(int64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second.s.closing) return;
  Unschedule(it->second);
  it->second.s.closing = true;
  ++closing_;
}

void SessionTracker::Remove(int64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  if (it->second.s.closing) {
    --closing_;
  } else {
    Unschedule(it->second);
  }
  sessions_.erase(it);
}

const Session* SessionTracker::Find(int64_t id) const {
  auto it = sessions_.find(id);
  return it == sessions_.end() ? nullptr : &it->second.s;
}

std::vector<int64_t> SessionTracker::PopExpired(int64_t now_ms) {
  std::vector<int64_t> out;
  while (!buckets_.empty() && buckets_.begin()->first <= now_ms) {
    Entry* e = buckets_.begin()->second;
    buckets_.erase(buckets_.begin());
    std::vector<int64_t> ids = SortedIds(e);
    while (e != nullptr) {
      Entry* next = e->next;
      e->prev = e->next = nullptr;
      e->s.closing = true;
      ++closing_;
      e = next;
    }
    out.insert(out.end(), ids.begin(), ids.end());
  }
  return out;
}

int64_t SessionTracker::NextExpiryCheck() const {
  return buckets_.empty() ? std::numeric_limits<int64_t>::max() : buckets_.begin()->first;
}

void SessionTracker::ForEach(const std::function<void(const Session&)>& fn) const {
  for (const auto& [id, e] : sessions_) fn(e.s);
}

std::vector<std::pair<int64_t, std::vector<int64_t>>> SessionTracker::Buckets() const {
  std::vector<std::pair<int64_t, std::vector<int64_t>>> out;
  out.reserve(buckets_.size());
  for (const auto& [t, head] : buckets_) out.emplace_back(t, SortedIds(head));
  return out;
}

}  // namespace aviary::session
