#include "server/snapshotter.h"

#include <chrono>

#include "base/log.h"
#include "storage/recovery.h"
#include "storage/snapshot.h"

namespace aviary::server {

Snapshotter::Snapshotter(std::string snap_dir, std::string log_dir, int retain_count)
    : snap_dir_(std::move(snap_dir)), log_dir_(std::move(log_dir)), retain_count_(retain_count) {
  thread_ = std::thread([this] { Run(); });
}

Snapshotter::~Snapshotter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Snapshotter::Post(Job job) {
  queued_bytes_.fetch_add(job.bytes.size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void Snapshotter::Begin(int64_t zxid) {
  busy_.store(true);
  Post(Job{Job::kBegin, zxid, {}});
}
void Snapshotter::Write(std::string chunk) { Post(Job{Job::kWrite, 0, std::move(chunk)}); }
void Snapshotter::Finish(std::string trailer) { Post(Job{Job::kFinish, 0, std::move(trailer)}); }
void Snapshotter::RequestPurge() { Post(Job{Job::kPurge, 0, {}}); }

void Snapshotter::Run() {
  storage::SnapshotFileWriter writer;
  bool failed = false;
  int64_t zxid = 0;
  auto started = std::chrono::steady_clock::now();
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        if (busy_.load()) writer.Abort();  // stopped mid-snapshot: leave no tmp file
        return;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    queued_bytes_.fetch_sub(job.bytes.size());
    std::string error;
    switch (job.kind) {
      case Job::kBegin:
        zxid = job.zxid;
        started = std::chrono::steady_clock::now();
        failed = !writer.Begin(snap_dir_, zxid, &error);
        break;
      case Job::kWrite:
        if (!failed) failed = !writer.Write(job.bytes, &error);
        break;
      case Job::kFinish: {
        if (!failed) failed = !(writer.Write(job.bytes, &error) && writer.Commit(&error));
        if (failed) {
          writer.Abort();
        } else {
          auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                        .count();
          AV_LOG(kInfo, "snapshot {:#x} written in {} ms", zxid, ms);
          last_zxid_.store(zxid);
        }
        busy_.store(false);
        break;
      }
      case Job::kPurge:
        storage::Purge(snap_dir_, log_dir_, retain_count_);
        break;
    }
    if (!error.empty()) AV_LOG(kError, "snapshot {:#x} failed: {}", zxid, error);
  }
}

}  // namespace aviary::server
