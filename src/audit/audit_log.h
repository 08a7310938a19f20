// The audit log writer: events go through a bounded in-memory queue to a
// dedicated thread that formats them and appends them to the audit file (base::RotatingFile: size-based rotation as
// ZooKeeper's RFAAUDIT appender, MaxFileSize 10MB, 10 backups by default).
// The write path never waits for the disk: when the queue holds
// max_queue_bytes, further events are dropped and counted (dropped()); the
// writer then writes one line saying how many were lost, so a gap in the
// file is visible, and the main log says it too (WARN, at most every 10 s).
//
// Threads: Log / Reopen / counters from any thread; Start and Stop from the
// owner (main). Stop writes everything queued before it returns.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "audit/event.h"
#include "base/rotating_file.h"

namespace aviary::audit {

struct AuditOptions {
  std::string path;                           // the audit file
  int64_t max_file_bytes = 10 * 1024 * 1024;  // aviary.audit.maxFileSize (0: never rotate)
  int max_backups = 10;                       // aviary.audit.maxBackups
  int64_t max_queue_bytes = 8 * 1024 * 1024;  // aviary.audit.queueBytes
  std::string server_user;                    // the user of system operations (ZooKeeper's getZKUser)
  // Tests: run by the writer thread before each batch (a slow disk).
  std::function<void()> test_before_write;
};

class AuditLog {
 public:
  explicit AuditLog(AuditOptions options);
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Opens the file and starts the writer thread.
  bool Start(std::string* error);
  // Writes what is queued, then stops the thread (idempotent).
  void Stop();

  void Log(Event e);
  // Reopens the file before the next write (after logrotate moved it).
  void Reopen() {
    reopen_.store(true, std::memory_order_relaxed);
    cv_.notify_one();
  }
  // Blocks until every event logged before the call is written (tests, stop).
  void Flush();

  const std::string& server_user() const { return options_.server_user; }
  const std::string& path() const { return options_.path; }
  int64_t written() const { return written_.load(std::memory_order_relaxed); }
  int64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  void Run();
  // Writes `batch` (of which `events` are audit events, the rest gap lines).
  void WriteBatch(const std::deque<std::string>& batch, int64_t events);

  AuditOptions options_;
  base::RotatingFile file_;  // writer thread only (after Start)
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable drained_cv_;
  struct Queued {
    Event event;
    int64_t wall_ms = 0;
  };
  std::deque<Queued> queue_;
  int64_t queued_bytes_ = 0;
  int64_t enqueued_ = 0;  // lines accepted, under mu_
  int64_t done_ = 0;      // lines handled by the writer, under mu_
  int64_t unreported_drops_ = 0;
  int64_t last_drop_warn_ms_ = 0;
  bool stop_ = false;
  bool running_ = false;
  std::atomic<bool> reopen_{false};
  std::atomic<int64_t> written_{0};
  std::atomic<int64_t> dropped_{0};
  std::thread thread_;
};

// The user ZooKeeper audits system operations as: the server's SASL login
// principal when it has one (`sasl_principal`), else the OS user running
// the server.
std::string ServerUser(const std::string& sasl_principal);

}  // namespace aviary::audit
