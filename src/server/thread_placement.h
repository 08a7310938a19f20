// IRQ-aware, load-adaptive placement of the request threads
// (zoo.cfg aviary.threadPlacement, docs/OPERATIONS.md "Thread placement").
//
// On a VM whose disk interrupts all go to one vCPU, that vCPU loses
// milliseconds at a time while durable writes run (the hypervisor stalls it
// around the disk's completions: docs/perf/storage.md session 9), and a
// request thread that runs there is late by as much. When the CPUs that do
// NOT take the log device's interrupts (the "quiet" CPUs) have room and the
// server's own request threads need little CPU, the core thread and the
// network I/O threads are confined to them; when those threads need more, or
// queue for the CPU there, they are released to every CPU the process may
// use, so that a heavy load (CPU-bound or not) still spreads over all of them.
//
// Parts:
//  - parsing (pure, on text): cpu lists, /proc/interrupts, /proc/stat,
//    schedstat;
//  - detection (file reads under sysfs / procfs roots that tests replace):
//    the log directory's block device -> its disk -> the disk's IRQs ->
//    the CPUs they are delivered to;
//  - PlacementController: the decision (pure: fed with samples, no I/O);
//  - ThreadPlacement: the server's runner (registers threads, samples
//    the placed threads' schedstat, /proc/stat and the disk's I/O count
//    every 100 ms on its own thread, applies the decisions with
//    sched_setaffinity). Linux only; elsewhere it does nothing.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace aviary::server::placement {

// CPU ids, sorted, without duplicates.
using CpuList = std::vector<int>;

// "0-3,8,10-11\n" -> {0,1,2,3,8,10,11}. False on malformed text; an empty
// (or blank) list parses as empty.
bool ParseCpuList(std::string_view text, CpuList* out);
std::string FormatCpuList(const CpuList& cpus);  // {0,1,2,5} -> "0-2,5"; {} -> "none"
CpuList Minus(const CpuList& a, const CpuList& b);
CpuList Intersect(const CpuList& a, const CpuList& b);

// One line of /proc/interrupts with a numeric IRQ ("36:   0  4030  PCI-MSIX-0000:00:02.0  1-edge  virtio1-req.0").
struct IrqLine {
  int irq = -1;
  std::vector<std::string> tokens;  // everything after the per-CPU counts (chip, hwirq, type, action names)
};
std::vector<IrqLine> ParseInterrupts(std::string_view text);
// The IRQs of `lines` that belong to a device known by one of `names` (a
// sysfs device name such as "virtio1", "nvme0" or a PCI address): a token
// equal to the name, or the name followed by '-' (virtio1-req.0), by 'q'
// and a digit (nvme0q1), or in brackets (ahci[0000:00:1f.2]), or the chip
// "PCI-MSI(X)-<address>".
std::vector<int> IrqsNamed(const std::vector<IrqLine>& lines, const std::vector<std::string>& names);
// True when the IRQ is a virtio configuration-change interrupt
// ("virtio1-config": rare, not the disk's completions).
bool IsConfigIrq(const std::vector<IrqLine>& lines, int irq);

// Per-CPU jiffies from /proc/stat ("cpuN user nice system idle iowait irq
// softirq steal ..."): busy = all but idle and iowait.
struct CpuTimes {
  int cpu = -1;
  uint64_t busy = 0;
  uint64_t total = 0;
};
std::vector<CpuTimes> ParseProcStat(std::string_view text);

// The I/Os a disk completed (reads, writes, discards, flushes) from its
// sysfs "stat" line; false when it does not parse.
bool ParseDiskStat(std::string_view text, uint64_t* ios);

// Where the files are: "/sys" and "/proc" on a live machine.
struct Roots {
  std::string sys = "/sys";
  std::string proc = "/proc";
};

struct DiskIrqs {
  bool ok = false;
  std::string why;     // !ok: what was missing
  std::string disk;    // e.g. "vda"
  std::string device;  // the disk's device, e.g. "virtio1"
  std::vector<int> irqs;
  CpuList cpus;                         // the CPUs those IRQs are delivered to
  std::vector<std::string> stat_files;  // the disks' sysfs "stat" files (their I/O counts)
};
// The block device numbered dev_major:dev_minor (a partition's parent disk, a
// device-mapper / md device's underlying disks), its IRQs (the device's
// msi_irqs, else /proc/interrupts names) and their CPUs
// (/proc/irq/N/effective_affinity_list, else smp_affinity_list).
DiskIrqs DetectDevIrqs(unsigned dev_major, unsigned dev_minor, const Roots& roots = Roots());
// The same for the device holding `path` (stat()'s st_dev).
DiskIrqs DetectPathIrqs(const std::string& path, const Roots& roots = Roots());

// The placed threads' scheduler times from /proc/<pid>/task/<tid>/schedstat
// ("<run ns> <run-queue wait ns> <timeslices>"); false when it does not parse.
bool ParseSchedstat(std::string_view text, uint64_t* run_ns, uint64_t* wait_ns);
// utime + stime (clock ticks) from /proc/<pid>/task/<tid>/stat, for kernels
// without schedstat (no wait time then); false when it does not parse.
bool ParseTaskStatTicks(std::string_view text, uint64_t* ticks);

// One sample period's measurements, [start_ms, end_ms] since the previous one.
struct PlacementSample {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  // The quiet CPUs' busy and total jiffies (/proc/stat, every process).
  uint64_t quiet_busy = 0;
  uint64_t quiet_total = 0;
  // The placed threads' (core + I/O) CPU time and run-queue wait, summed;
  // wait_us -1: unknown (counts as no wait).
  int64_t run_us = 0;
  int64_t wait_us = -1;
  // The I/Os the log's disk completed (-1: unknown, counts as working).
  int64_t disk_ios = -1;
};

// The decision, by the server's own load. Feed it a sample every period;
// it answers what to do. "Need" is what the placed threads used plus what
// they waited for a CPU (schedstat run + wait), in % of one CPU: ~10 % at
// 10k sets/s, ~70 % at set 16 x 16 (not CPU-bound, but it does not fit on
// one CPU beside the load generator without waiting), ~150 % at get 16 x 16.
//  - released (the start): confine once, over the last confine_window_ms,
//    the placed threads needed less than confine_below_need_pct of one CPU
//    per quiet CPU, waited less than confine_below_wait_pct, the quiet CPUs
//    (every process) were busy less than confine_below_pct (room for them),
//    the disk completed at least min_disk_ios_per_s (its interrupts stall
//    the other CPUs only while it works: with the disk idle both kinds of
//    CPU are alike, and confining would only take CPUs away), and at least
//    hold_ms have passed since the last release;
//  - confined: release once, over the last release_window_ms (samples since
//    the confinement only), the placed threads needed more than
//    release_above_need_pct per quiet CPU or waited more than
//    release_above_wait_pct (confinement makes them queue: the quiet CPUs
//    are too busy, with them or with other work), or the quiet CPUs were
//    busier than release_above_pct (machine-wide; 100: never, the default);
//    or once the disk was idle (under min_disk_ios_per_s) for
//    idle_release_ms.
// A release for load that comes less than short_confinement_ms after its
// confinement doubles the hold (up to max_hold_ms): a load that fits when
// spread but not when confined does not flap at the sample rate; a longer
// confinement resets it to confine_window_ms.
struct ControllerOptions {
  int confine_below_need_pct = 30;
  int confine_below_wait_pct = 10;
  int release_above_need_pct = 50;
  int release_above_wait_pct = 25;
  int confine_below_pct = 75;
  int release_above_pct = 100;
  int quiet_cpus = 1;  // the need thresholds are per quiet CPU
  int64_t confine_window_ms = 1000;
  int64_t release_window_ms = 200;
  int64_t min_disk_ios_per_s = 10;
  int64_t idle_release_ms = 2000;
  int64_t short_confinement_ms = 10000;
  int64_t max_hold_ms = 16000;
};

class PlacementController {
 public:
  enum class Action { kNone, kConfine, kRelease };
  explicit PlacementController(ControllerOptions o = ControllerOptions());

  Action Feed(const PlacementSample& s);

  // The samples since the last switch over the last `window_ms` before
  // `now_ms`, summed; covered is false when they do not reach back so far.
  struct Window {
    bool covered = false;
    int64_t span_ms = 0;
    int busy_pct = 0;  // the quiet CPUs, every process
    int need_pct = 0;  // the placed threads' run + wait, % of one CPU
    int wait_pct = 0;  // their wait alone
    bool disk_active = true;
  };
  Window Over(int64_t now_ms, int64_t window_ms) const;

  bool confined() const { return confined_; }
  int64_t switches() const { return switches_; }
  int64_t hold_ms() const { return hold_ms_; }
  // Why the last switch happened ("need 62% > 45%", ...), for the log.
  const std::string& reason() const { return reason_; }

 private:
  void Switch(int64_t now_ms, bool confine, std::string why);

  ControllerOptions o_;
  std::deque<PlacementSample> samples_;  // since the last switch, newest last
  int64_t switched_ms_ = -1;
  bool confined_ = false;
  int64_t switches_ = 0;
  int64_t hold_ms_;
  std::string reason_;
};

// The runner. "auto": detect and adapt; "off": nothing; "confine": always
// confined to the quiet CPUs (a static placement, for experiments).
enum class Mode { kOff, kAuto, kConfine };
bool ParseMode(std::string_view text, Mode* out);
const char* ModeName(Mode m);

struct PlacementOptions {
  Mode mode = Mode::kAuto;
  std::string log_dir;  // the transaction log's directory (empty: nothing to detect)
  Roots roots;
  ControllerOptions controller;
  int64_t sample_ms = 100;
};

struct PlacementStats {
  bool active = false;  // quiet CPUs were found and the threads are managed
  bool confined = false;
  int64_t switches = 0;
  int quiet_cpus = 0;
};

class ThreadPlacement {
 public:
  explicit ThreadPlacement(PlacementOptions o);
  ~ThreadPlacement();
  ThreadPlacement(const ThreadPlacement&) = delete;
  ThreadPlacement& operator=(const ThreadPlacement&) = delete;

  // The calling thread is one to place (any time; before Start normally).
  void AddCurrentThread();
  // Detects the quiet CPUs (logs what it found, once) and, when there are
  // some, starts the sampling thread. Failures only log.
  void Start();
  // Stops sampling (before the placed threads exit: their ids must not be
  // reused under it). The threads keep their last affinity.
  void Stop();
  PlacementStats stats() const;

 private:
  void Run();
  void ApplyLocked(bool confine);

  PlacementOptions o_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<pid_t> tids_;
  CpuList allowed_;
  CpuList quiet_;
  std::vector<std::string> disk_stats_;  // the log disks' sysfs stat files
  std::thread thread_;
  std::atomic<bool> active_{false};
  std::atomic<bool> confined_{false};
  std::atomic<int64_t> switches_{0};
  bool warned_ = false;  // mu_: one warning for a failed sched_setaffinity
};

// In a forked child (snapshot writers): undo an inherited confinement, so
// the child may run on every CPU the process was allowed at startup.
void UnconfineForkedChild();

}  // namespace aviary::server::placement
