// Client-side record of the watches a session has set, so they can be
// re-registered (setWatches2) after a reconnect, and of the chroot mapping
// of request and reply paths. Plain value, used by the Session's thread.
#pragma once

#include <set>
#include <string>

#include "proto/records.h"

namespace aviary::client {

class WatchRegistry {
 public:
  // Records the watch a successful (or NoNode for exists) reply set.
  void OnReply(const proto::Request& req, proto::Err err);
  // Drops one-shot watches an event fired; persistent ones stay.
  void OnEvent(const proto::WatcherEvent& ev);
  // After a successful removeWatches(path, type).
  void OnRemoved(const std::string& path, int32_t type);
  bool empty() const;
  proto::SetWatches2 ToSetWatches(int64_t relative_zxid) const;

 private:
  std::set<std::string> data_, exist_, child_, persistent_, recursive_;
};

// Rewrites every path of a request body through AddChroot.
void ChrootRequest(const std::string& chroot, proto::Request* req);
// Rewrites the paths of a reply body / event through StripChroot.
void UnchrootReply(const std::string& chroot, proto::ResponseBody* body);

}  // namespace aviary::client
