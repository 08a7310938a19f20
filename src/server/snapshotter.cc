#include "server/snapshotter.h"

#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "base/failpoint.h"
#include "base/log.h"
#include "metrics/server_metrics.h"
#include "server/thread_placement.h"
#include "storage/layout.h"
#include "storage/recovery.h"
#include "storage/snapshot.h"

namespace aviary::server {

Snapshotter::Snapshotter(std::string snap_dir, std::string log_dir, int retain_count, int64_t child_timeout_ms,
                         SnapshotIo io)
    : snap_dir_(std::move(snap_dir)),
      log_dir_(std::move(log_dir)),
      retain_count_(retain_count),
      io_(io),
      child_timeout_ms_(child_timeout_ms) {
  thread_ = std::thread([this] { Run(); });
}

Snapshotter::~Snapshotter() {
  if (child_ > 0) {
    ::kill(child_, SIGKILL);
    killed_.push_back(child_);
    child_ = 0;
    ::unlink(ChildTmpPath().c_str());
  }
  for (int pid : killed_) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  killed_.clear();
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

namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The calling thread's I/O goes to the idle class (the block layer's
// scheduler, mq-deadline here, dispatches it only when no request of a
// higher class is pending). Best effort: false if the kernel refused.
bool UseIdleIoClass() {
  constexpr int kWhoProcess = 1;  // IOPRIO_WHO_PROCESS: a thread id, 0 = the caller
  constexpr int kClassIdle = 3;   // IOPRIO_CLASS_IDLE
  constexpr int kClassShift = 13;
  return ::syscall(SYS_ioprio_set, kWhoProcess, 0, kClassIdle << kClassShift) == 0;
}

// The calling thread's CPU time.
int64_t ThreadCpuUs() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

// The process's minor page faults so far (all threads).
int64_t MinorFaults() {
  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

// The calling thread's nice value (Linux: per thread). Best effort.
bool SetThreadNice(int nice) {
  return nice <= 0 || ::setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), nice) == 0;
}

enum class ChildFault { kNone, kHang, kDie };

ChildFault ReadChildFault() {
  for (const std::string& name : base::ActiveFailpoints()) {
    if (name == "snapshot_child_hang") return ChildFault::kHang;
    if (name == "snapshot_child_die") return ChildFault::kDie;
  }
  return ChildFault::kNone;
}

// In the child: serialise and write the whole snapshot, then leave without
// running any exit handler of the parent's image.
[[noreturn]] void ChildWrite(const tree::DataTree& tree, int64_t zxid, std::vector<storage::SessionRecord> sessions,
                             const std::string& snap_dir, SnapshotIo io, ChildFault fault) {
  if (io.idle_io_class) UseIdleIoClass();  // no logging in the child: best effort
  SetThreadNice(io.nice);
  storage::SnapshotBuilder builder(zxid, std::move(sessions));
  storage::SnapshotFileWriter writer(io.writeback);
  std::string error;
  bool ok = writer.Begin(snap_dir, zxid, &error);
  std::string chunk;
  bool done = false;
  while (ok && !done) {
    chunk.clear();
    done = builder.Step(tree, 50000, &chunk);
    ok = writer.Write(chunk, &error);
    if (fault == ChildFault::kDie) ::_exit(3);  // failpoint: no cleanup
    while (fault == ChildFault::kHang) ::pause();
  }
  ok = ok && writer.Write(builder.Finish(), &error) && writer.Commit(&error);
  if (!ok) {
    writer.Abort();
    std::string msg = "snapshot child: " + error + "\n";
    ssize_t n = ::write(STDERR_FILENO, msg.data(), msg.size());
    (void)n;
  }
  ::_exit(ok ? 0 : 1);
}
}  // namespace

bool Snapshotter::Fork(const tree::DataTree& tree, int64_t zxid, const std::vector<storage::SessionRecord>& sessions) {
  if (child_ > 0) return false;
  const pid_t parent = ::getpid();
  const ChildFault fault = ReadChildFault();
  const auto fork_start = std::chrono::steady_clock::now();
  const int64_t fork_cpu_start = ThreadCpuUs();
  pid_t pid = ::fork();
  if (pid < 0) {
    AV_LOG(kWarn, "fork for snapshot failed ({}); serialising on the core thread", std::strerror(errno));
    return false;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(1);  // the server died before prctl
    placement::UnconfineForkedChild();      // forked by the core thread: not confined with it
    // Drop the inherited sockets and log files: a client whose connection the
    // server closes must see it closed now, not when this child exits.
    ::close_range(3, ~0U, 0);
    ChildWrite(tree, zxid, sessions, snap_dir_, io_, fault);
  }
  child_ = pid;
  child_zxid_ = zxid;
  child_started_ms_ = NowMs();
  child_server_faults_ = MinorFaults();
  // The parent's pause: fork copies the page tables of the whole heap.
  last_fork_us_ =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - fork_start).count();
  // Wall time against the CPU the fork itself took (the page-table copy):
  // on a loaded machine the forking thread may also wait for a core.
  AV_LOG(kInfo, "snapshot {:#x}: forked the writer (pid {}) in {} us (CPU {} us)", zxid, pid, last_fork_us_,
         ThreadCpuUs() - fork_cpu_start);
  return true;
}

std::string Snapshotter::ChildTmpPath() const {
  return storage::VersionDir(snap_dir_) + "/" + storage::SnapshotName(child_zxid_) + ".tmp";
}

void Snapshotter::Reap() {
  // Killed children: collect them once they are gone (a child stuck in the
  // kernel dies only when its I/O returns; nothing waits for it).
  std::erase_if(killed_, [](int pid) {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) != 0;
  });
  if (child_ <= 0) return;
  int status = 0;
  struct rusage ru {};
  pid_t r = ::wait4(child_, &status, WNOHANG, &ru);
  if (r == 0) {
    if (NowMs() - child_started_ms_ < child_timeout_ms_) return;
    AV_LOG(kError, "snapshot {:#x}: the child (pid {}) is still writing after {} ms; killing it", child_zxid_, child_,
           child_timeout_ms_);
    ::kill(child_, SIGKILL);
    killed_.push_back(child_);
    child_ = 0;
    ::unlink(ChildTmpPath().c_str());
    return;
  }
  child_ = 0;
  if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    // What the snapshot cost, beside the fork: the child's CPU (on the
    // cores the server shares) and the copy-on-write faults the server took
    // while the child held the old pages.
    last_child_ =
        ChildCost{last_fork_us_,
                  (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000,
                  MinorFaults() - child_server_faults_};
    AV_LOG(kInfo, "snapshot {:#x} written in {} ms (the child's CPU {} ms; the server's minor faults meanwhile {})",
           child_zxid_, NowMs() - child_started_ms_, last_child_.child_cpu_ms, last_child_.server_minor_faults);
    metrics::Server().snapshot_time.Add(NowMs() - child_started_ms_);
  } else {
    AV_LOG(kError, "snapshot {:#x} failed (child status {:#x}); removing its temporary file", child_zxid_, status);
    ::unlink(ChildTmpPath().c_str());
  }
}

void Snapshotter::Begin(int64_t zxid) {
  busy_.store(true);
  Post(Job{Job::kBegin, zxid, {}});
}
void Snapshotter::Write(std::string chunk) { Post(Job{Job::kWrite, 0, std::move(chunk)}); }
void Snapshotter::WriteBlock(storage::RawBlock block) {
  Post(Job{Job::kBlock, static_cast<int64_t>(block.seq), std::move(block.records)});
}
void Snapshotter::Finish(std::string trailer) { Post(Job{Job::kFinish, 0, std::move(trailer)}); }
void Snapshotter::RequestPurge() { Post(Job{Job::kPurge, 0, {}}); }

void Snapshotter::Run() {
  pthread_setname_np(pthread_self(), "av-snapshot");  // for top -H / perf
  const bool idle = io_.idle_io_class && UseIdleIoClass();
  if (io_.idle_io_class && !idle) AV_LOG(kWarn, "snapshot: ioprio_set(idle) failed ({})", std::strerror(errno));
  if (!SetThreadNice(io_.nice))
    AV_LOG(kWarn, "snapshot: setpriority(nice {}) failed ({})", io_.nice, std::strerror(errno));
  if (io_.idle_io_class || io_.writeback.bounded || io_.nice > 0 ||
      io_.writeback.range_bytes != storage::SnapshotWriteback{}.range_bytes) {
    AV_LOG(kInfo, "snapshot writes: writeback every {} KiB{}, I/O class {}, nice {}", io_.writeback.range_bytes >> 10,
           io_.writeback.bounded ? ", each waiting for the range before" : "", idle ? "idle" : "default", io_.nice);
  }
  storage::SnapshotFileWriter writer(io_.writeback);
  std::string sealed;  // one block's stored bytes, reused
  bool failed = false;
  int64_t zxid = 0;
  auto started = std::chrono::steady_clock::now();
  int64_t seal_us = 0;   // this snapshot's compression and checksums
  int64_t write_us = 0;  // and its write() calls (with their writeback hints)
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
        seal_us = write_us = 0;
        failed = !writer.Begin(snap_dir_, zxid, &error);
        break;
      case Job::kWrite:
        if (!failed) failed = !writer.Write(job.bytes, &error);
        break;
      case Job::kBlock:
        if (!failed) {
          const auto t0 = std::chrono::steady_clock::now();
          sealed.clear();
          storage::snapblock::Seal(job.bytes, storage::snapblock::Codec::kZstd, static_cast<uint32_t>(job.zxid),
                                   &sealed);
          const auto t1 = std::chrono::steady_clock::now();
          failed = !writer.Write(sealed, &error);
          seal_us += std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count();
          write_us +=
              std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t1).count();
        }
        break;
      case Job::kFinish: {
        const auto commit_start = std::chrono::steady_clock::now();
        if (!failed) failed = !(writer.Write(job.bytes, &error) && writer.Commit(&error));
        const auto commit_end = std::chrono::steady_clock::now();
        // No malloc_trim here: the blocks' free pages (up to
        // CoreOptions::snapshot_max_queued_bytes, in the core's arena) stay
        // for the next snapshot's blocks and the core's own allocations while
        // writes go on; the core's IdleTrim gives them back once writes stop
        // (heap_release.h). A trim here locked each arena for 1-40 ms at the
        // end of every snapshot (the core's allocations waited) and made the
        // core fault ~1,100 pages back in at the next one (storage.md, session 14).
        if (failed) {
          writer.Abort();
        } else {
          auto ms =
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
          AV_LOG(kInfo, "snapshot {:#x} written in {} ms ({} bytes; sealing {} ms, writes {} ms, fsync+rename {} ms)",
                 zxid, ms, writer.bytes_written(), seal_us / 1000, write_us / 1000,
                 std::chrono::duration_cast<std::chrono::milliseconds>(commit_end - commit_start).count());
          metrics::Server().snapshot_time.Add(ms);
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
