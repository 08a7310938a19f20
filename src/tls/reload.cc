// ContextSource: the current context and its reload on file changes.
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstring>
#include <map>

#include "base/log.h"
#include "tls/context.h"

namespace aviary::tls {
namespace {

constexpr int kQuietMs = 200;   // a rewrite's events settle before the rebuild
constexpr int kRetryMs = 1000;  // a failed rebuild (half-written file) is tried again
constexpr int kMaxRetries = 10;

std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string BaseOf(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ContextSource::~ContextSource() { Stop(); }

bool ContextSource::Start(std::string* error) {
  std::vector<std::string> warnings;
  SslCtxPtr ctx = BuildServerContext(opts_, &warnings, error);
  if (!ctx) return false;
  for (const std::string& w : warnings) AV_LOG(kWarn, "{}", w);
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(ctx);
  }
  if (!opts_.cert_reload) return true;
  inotify_fd_ = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  stop_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (inotify_fd_ < 0 || stop_fd_ < 0) {
    *error = opts_.reload_key + ": inotify: " + std::strerror(errno);
    return false;
  }
  for (const StoreOptions* s : {&opts_.key_store, &opts_.trust_store}) {
    if (s->empty()) continue;
    constexpr uint32_t kMask = IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_MOVED_TO;
    if (inotify_add_watch(inotify_fd_, DirOf(s->location).c_str(), kMask) < 0) {
      *error = opts_.reload_key + ": cannot watch " + DirOf(s->location) + ": " + std::strerror(errno);
      return false;
    }
  }
  watcher_ = std::thread([this] { WatchLoop(); });
  AV_LOG(kInfo, "{}=true: watching the key and trust store files for changes", opts_.reload_key);
  return true;
}

void ContextSource::Stop() {
  if (stopping_.exchange(true)) return;
  if (stop_fd_ >= 0) {
    uint64_t one = 1;
    ssize_t n = ::write(stop_fd_, &one, sizeof one);
    (void)n;
  }
  if (watcher_.joinable()) watcher_.join();
  if (inotify_fd_ >= 0) ::close(inotify_fd_);
  if (stop_fd_ >= 0) ::close(stop_fd_);
  inotify_fd_ = stop_fd_ = -1;
}

SslCtxPtr ContextSource::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return current_;
}

bool ContextSource::Reload(std::string* error) {
  std::vector<std::string> warnings;
  SslCtxPtr ctx = BuildServerContext(opts_, &warnings, error);
  if (!ctx) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_ = std::move(ctx);
  }
  reloads_.fetch_add(1);
  return true;
}

void ContextSource::WatchLoop() {
  std::vector<std::string> names;
  for (const StoreOptions* s : {&opts_.key_store, &opts_.trust_store}) {
    if (!s->empty()) names.push_back(BaseOf(s->location));
  }
  int64_t due_ms = -1;  // a rebuild is pending at this time
  int retries = 0;
  alignas(inotify_event) char buf[8192];
  while (!stopping_.load()) {
    pollfd fds[2] = {{inotify_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
    int wait_ms = due_ms < 0 ? -1 : static_cast<int>(std::max<int64_t>(0, due_ms - NowMs()));
    int n = ::poll(fds, 2, wait_ms);
    if (stopping_.load()) return;
    if (n > 0 && (fds[0].revents & POLLIN)) {
      ssize_t len;
      while ((len = ::read(inotify_fd_, buf, sizeof buf)) > 0) {
        for (char* p = buf; p < buf + len;) {
          auto* ev = reinterpret_cast<inotify_event*>(p);
          // The store files themselves, or the "..data" link Kubernetes'
          // atomic writer swaps when a mounted secret changes (the files
          // are links through it, so their own names see no event).
          std::string name = ev->len > 0 ? std::string(ev->name) : std::string();
          bool ours = (ev->mask & IN_Q_OVERFLOW) || std::find(names.begin(), names.end(), name) != names.end() ||
                      name == "..data";
          if (ours) {
            due_ms = NowMs() + kQuietMs;
            retries = 0;
          }
          p += sizeof(inotify_event) + ev->len;
        }
      }
    }
    if (due_ms < 0 || NowMs() < due_ms) continue;
    std::string error;
    if (Reload(&error)) {
      AV_LOG(kInfo, "{}: key/trust store changed; new handshakes use the reloaded certificates", opts_.log_name);
      due_ms = -1;
    } else if (++retries <= kMaxRetries) {
      AV_LOG(kWarn,
             "{}: reloading the changed key/trust store failed (will retry; the previous certificates stay in "
             "use): {}",
             opts_.log_name, error);
      due_ms = NowMs() + kRetryMs;
    } else {
      AV_LOG(kError, "{}: giving up reloading the key/trust store; the previous certificates stay in use: {}",
             opts_.log_name, error);
      due_ms = -1;
    }
  }
}

}  // namespace aviary::tls
