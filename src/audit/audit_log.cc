#include "audit/audit_log.h"

#include <pthread.h>
#include <pwd.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>

#include "audit/ops.h"
#include "base/log.h"

namespace aviary::audit {
namespace {

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string ServerUser(const std::string& sasl_principal) {
  if (!sasl_principal.empty()) return sasl_principal;
  struct passwd pw {};
  struct passwd* found = nullptr;
  char buf[4096];
  if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found != nullptr) return found->pw_name;
  return "<NA>";  // as Java's System.getProperty("user.name", "<NA>")
}

AuditLog::AuditLog(AuditOptions options) : options_(std::move(options)) {}

AuditLog::~AuditLog() { Stop(); }

bool AuditLog::Start(std::string* error) {
  if (!file_.Open(options_.path, options_.max_file_bytes, options_.max_backups, error)) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = true;
  }
  thread_ = std::thread([this] { Run(); });
  return true;
}

void AuditLog::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  running_ = false;
}

namespace {

// The queue's charge for `e`: about its line's length.
size_t ApproxBytes(const Event& e) {
  size_t n = 80 + e.operation.size();  // time, level, logger, keys
  for (const auto* v : {&e.session, &e.user, &e.ip, &e.znode, &e.znode_type, &e.acl})
    n += v->has_value() ? (*v)->size() : 0;
  return n;
}

}  // namespace

void AuditLog::Log(Event e) {
  const int64_t wall_ms = WallMs();
  const size_t bytes = ApproxBytes(e);
  std::unique_lock<std::mutex> lock(mu_);
  if (!running_ || stop_) return;
  if (queued_bytes_ + static_cast<int64_t>(bytes) > options_.max_queue_bytes) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    ++unreported_drops_;
    if (wall_ms - last_drop_warn_ms_ >= 10000) {
      last_drop_warn_ms_ = wall_ms;
      lock.unlock();
      AV_LOG(kWarn, "audit log: the disk does not keep up, events dropped ({} in all)", dropped());
    }
    return;
  }
  const bool was_empty = queue_.empty();
  queued_bytes_ += static_cast<int64_t>(bytes);
  queue_.push_back(Queued{std::move(e), wall_ms});
  ++enqueued_;
  lock.unlock();
  if (was_empty) cv_.notify_one();  // the writer sleeps only on an empty queue
}

void AuditLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const int64_t target = enqueued_;
  drained_cv_.wait(lock, [&] { return done_ >= target || !running_; });
}

void AuditLog::WriteBatch(const std::deque<std::string>& batch, int64_t events) {
  if (options_.test_before_write) options_.test_before_write();
  if (reopen_.exchange(false, std::memory_order_relaxed)) {
    std::string error;
    if (!file_.Reopen(&error)) AV_LOG(kError, "audit log: {}", error);
  }
  // Few write(2)s, but never one that would carry the file past its size:
  // rotation happens between lines.
  const auto room = [this](size_t pending) {
    return options_.max_file_bytes <= 0 ? INT64_MAX
                                        : options_.max_file_bytes - file_.size_bytes() - static_cast<int64_t>(pending);
  };
  std::string text;
  std::string error;
  bool ok = true;
  for (const std::string& line : batch) {
    if (!text.empty() && static_cast<int64_t>(line.size()) > room(text.size())) {
      ok = file_.Write(text, &error) && ok;
      text.clear();
    }
    text += line;
  }
  if (!text.empty()) ok = file_.Write(text, &error) && ok;
  if (!ok) {
    AV_LOG(kError, "audit log: {} ({} events counted as dropped)", error, events);
    dropped_.fetch_add(events, std::memory_order_relaxed);
    return;
  }
  written_.fetch_add(events, std::memory_order_relaxed);
}

void AuditLog::Run() {
  pthread_setname_np(pthread_self(), "av-audit");
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || !queue_.empty() || reopen_.load(std::memory_order_relaxed); });
    std::deque<Queued> events;
    events.swap(queue_);
    queued_bytes_ = 0;
    const int64_t drops = unreported_drops_;
    unreported_drops_ = 0;
    const bool stopping = stop_;
    lock.unlock();
    // Formatted here, off the caller's (the core's) thread.
    std::deque<std::string> batch;
    for (const Queued& q : events) batch.push_back(FormatLine(q.event, q.wall_ms));
    if (drops > 0) {
      // Not a ZooKeeper operation: marks the gap, with how many were lost.
      Event gap = ServerEvent("auditEventsDropped", options_.server_user, Result::kFailure);
      std::string line = FormatLine(gap, WallMs());
      line.insert(line.rfind("\tresult="), "\tcount=" + std::to_string(drops));
      batch.push_front(std::move(line));
    }
    const size_t n = batch.size() - (drops > 0 ? 1 : 0);
    WriteBatch(batch, static_cast<int64_t>(n));
    lock.lock();
    done_ += static_cast<int64_t>(n);
    drained_cv_.notify_all();
    if (stopping && queue_.empty()) return;
  }
}

}  // namespace aviary::audit
