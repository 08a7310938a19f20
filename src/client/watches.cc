#include "client/watches.h"

#include <type_traits>

#include "client/connect_string.h"

namespace aviary::client {

using proto::OpCode;

void WatchRegistry::OnReply(const proto::Request& req, proto::Err err) {
  bool ok = err == proto::Err::kOk;
  if (const auto* b = std::get_if<proto::GetDataRequest>(&req.body); b && b->watch && ok) data_.insert(b->path);
  if (const auto* b = std::get_if<proto::ExistsRequest>(&req.body); b && b->watch) {
    if (ok) data_.insert(b->path);
    if (err == proto::Err::kNoNode) exist_.insert(b->path);
  }
  if (const auto* b = std::get_if<proto::GetChildrenRequest>(&req.body); b && b->watch && ok) child_.insert(b->path);
  if (const auto* b = std::get_if<proto::AddWatchRequest>(&req.body); b && ok) {
    (b->mode == static_cast<int32_t>(proto::AddWatchMode::kPersistentRecursive) ? recursive_ : persistent_)
        .insert(b->path);
  }
}

void WatchRegistry::OnEvent(const proto::WatcherEvent& ev) {
  switch (static_cast<proto::EventType>(ev.type)) {
    case proto::EventType::kNodeCreated:
    case proto::EventType::kNodeDataChanged:
      data_.erase(ev.path);
      exist_.erase(ev.path);
      break;
    case proto::EventType::kNodeDeleted:
      data_.erase(ev.path);
      exist_.erase(ev.path);
      child_.erase(ev.path);
      break;
    case proto::EventType::kNodeChildrenChanged:
      child_.erase(ev.path);
      break;
    default:
      break;
  }
}

void WatchRegistry::OnRemoved(const std::string& path, int32_t type) {
  auto t = static_cast<proto::WatcherType>(type);
  if (t == proto::WatcherType::kData || t == proto::WatcherType::kAny) {
    data_.erase(path);
    exist_.erase(path);
  }
  if (t == proto::WatcherType::kChildren || t == proto::WatcherType::kAny) child_.erase(path);
  if (t == proto::WatcherType::kAny || t == proto::WatcherType::kPersistent) persistent_.erase(path);
  if (t == proto::WatcherType::kAny || t == proto::WatcherType::kPersistentRecursive) recursive_.erase(path);
}

bool WatchRegistry::empty() const {
  return data_.empty() && exist_.empty() && child_.empty() && persistent_.empty() && recursive_.empty();
}

proto::SetWatches2 WatchRegistry::ToSetWatches(int64_t relative_zxid) const {
  proto::SetWatches2 sw;
  sw.relativeZxid = relative_zxid;
  sw.dataWatches.assign(data_.begin(), data_.end());
  sw.existWatches.assign(exist_.begin(), exist_.end());
  sw.childWatches.assign(child_.begin(), child_.end());
  sw.persistentWatches.assign(persistent_.begin(), persistent_.end());
  sw.persistentRecursiveWatches.assign(recursive_.begin(), recursive_.end());
  return sw;
}

namespace {

template <typename T>
concept HasPath = requires(T t) {
  t.path;
};

void ChrootBody(const std::string& chroot, auto& body) {
  using T = std::decay_t<decltype(body)>;
  if constexpr (HasPath<T>) body.path = AddChroot(chroot, body.path);
  if constexpr (std::is_same_v<T, proto::GetEphemeralsRequest>) body.prefixPath = AddChroot(chroot, body.prefixPath);
  if constexpr (std::is_same_v<T, proto::MultiRequest>) {
    for (auto& op : body.ops) std::visit([&](auto& b) { ChrootBody(chroot, b); }, op.body);
  }
  if constexpr (std::is_same_v<T, proto::SetWatches2>) {
    for (auto* v : {&body.dataWatches, &body.existWatches, &body.childWatches, &body.persistentWatches,
                    &body.persistentRecursiveWatches}) {
      for (auto& p : *v) p = AddChroot(chroot, p);
    }
  }
}

}  // namespace

void ChrootRequest(const std::string& chroot, proto::Request* req) {
  if (chroot.empty()) return;
  std::visit([&](auto& b) { ChrootBody(chroot, b); }, req->body);
}

void UnchrootReply(const std::string& chroot, proto::ResponseBody* body) {
  if (chroot.empty()) return;
  std::visit(
      [&](auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (HasPath<T>) b.path = StripChroot(chroot, b.path);
        if constexpr (std::is_same_v<T, proto::MultiResponse>) {
          for (auto& r : b.results) {
            if (!r.path.empty()) r.path = StripChroot(chroot, r.path);
          }
        }
        if constexpr (std::is_same_v<T, proto::GetEphemeralsResponse>) {
          for (auto& p : b.ephemerals) p = StripChroot(chroot, p);
        }
      },
      *body);
}

}  // namespace aviary::client
