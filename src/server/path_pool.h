// The storage of decoded read paths (and of setData's path and data),
// recycled between the core and the I/O threads (issue 10: no allocation
// per request on the hot path).
//
// A read's path (GetDataRequest / ExistsRequest / GetChildrenRequest::path;
// most paths are past std::string's 15 inline bytes) is decoded on an I/O
// thread and was let go on the core thread once the read was answered: one
// malloc on one thread and one free on another per read. Now the core keeps
// the string (Keep: no lock, the core token is held), hands what it kept to
// the shared pool once per pass (Publish: one lock), and an I/O thread takes
// strings back before it decodes a read pass (Take: one lock per pass) and
// decodes paths into them (proto::DecodeRequest reuses a body of the same
// type: SeedPath). Bounded: at most kMaxPooled strings in the pool and
// kMaxKept on the core side, none with more than kMaxCapacity bytes of
// storage; what does not fit is freed as before.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "proto/records.h"

namespace aviary::server {

// The path of a decoded {path, watch} read (getData, exists, getChildren,
// getChildren2), or null for any other body.
inline std::string* RecyclablePath(proto::Request& r) {
  if (auto* b = std::get_if<proto::GetDataRequest>(&r.body)) return &b->path;
  if (auto* b = std::get_if<proto::ExistsRequest>(&r.body)) return &b->path;
  if (auto* b = std::get_if<proto::GetChildrenRequest>(&r.body)) return &b->path;
  return nullptr;
}

class PathPool {
 public:
  static constexpr size_t kMaxPooled = 1024;
  static constexpr size_t kMaxKept = 1024;
  static constexpr size_t kMaxCapacity = 256;
  // Smaller storage is std::string's inline buffer: nothing to keep.
  static constexpr size_t kMinCapacity = 16;

  // Core token holder: takes `s`'s storage (leaving `s` empty) for a later
  // decode when it is worth keeping; otherwise `s` is left as it is.
  void Keep(std::string& s) {
    const size_t cap = s.capacity();
    if (cap < kMinCapacity || cap > kMaxCapacity || kept_.size() >= kMaxKept) return;
    kept_.emplace_back(std::move(s));
  }
  void KeepPathOf(proto::Request& r) {
    if (std::string* p = RecyclablePath(r)) Keep(*p);
  }
  // Core token holder, once per pass: what Keep took goes to the pool (what
  // does not fit is freed).
  void Publish() {
    if (kept_.empty()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const size_t room = kMaxPooled - pool_.size();
      if (pool_.empty() && kept_.size() <= room) {
        pool_.swap(kept_);  // the kept vector's storage becomes the pool's
      } else {
        const size_t n = std::min(room, kept_.size());
        for (size_t i = 0; i < n; ++i) pool_.push_back(std::move(kept_[kept_.size() - 1 - i]));
      }
    }
    kept_.clear();
  }
  // Any thread: moves up to `n` pooled strings to the back of *out.
  void Take(std::vector<std::string>* out, size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    n = std::min(n, pool_.size());
    for (size_t i = 0; i < n; ++i) {
      out->push_back(std::move(pool_.back()));
      pool_.pop_back();
    }
  }
  // Strings in the pool now (tests).
  size_t pooled() {
    std::lock_guard<std::mutex> lock(mu_);
    return pool_.size();
  }
  size_t kept() const { return kept_.size(); }

  // I/O thread, before proto::DecodeRequest(payload, req): when the
  // payload is a {path, watch} read, gives *req that body with the last of
  // `spares` as its path's storage (the decode assigns into it); a setData
  // gets a SetDataRequest body with spares for its path and its data.
  static void SeedPath(std::string_view payload, proto::Request* req, std::vector<std::string>* spares) {
    if (spares->empty() || payload.size() < 8) return;
    const auto* p = reinterpret_cast<const unsigned char*>(payload.data()) + 4;
    const auto op = static_cast<proto::OpCode>(
        static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]}));
    std::string* path = nullptr;
    switch (op) {
      case proto::OpCode::kSetData: {
        // A set's path and data (a committed set's txn hands both back:
        // Core::ApplyCommitted).
        auto& b = req->body.emplace<proto::SetDataRequest>();
        TakeSpare(spares, &b.path);
        if (!spares->empty()) TakeSpare(spares, &b.data);
        return;
      }
      case proto::OpCode::kGetData:
        path = &req->body.emplace<proto::GetDataRequest>().path;
        break;
      case proto::OpCode::kExists:
        path = &req->body.emplace<proto::ExistsRequest>().path;
        break;
      case proto::OpCode::kGetChildren:
      case proto::OpCode::kGetChildren2:
        path = &req->body.emplace<proto::GetChildrenRequest>().path;
        break;
      default:
        return;
    }
    TakeSpare(spares, path);
  }

 private:
  static void TakeSpare(std::vector<std::string>* spares, std::string* into) {
    into->swap(spares->back());
    into->clear();
    spares->pop_back();
  }

  std::vector<std::string> kept_;  // the core token holder's
  std::mutex mu_;
  std::vector<std::string> pool_;
};

}  // namespace aviary::server
