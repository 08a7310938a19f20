#include "server/thread_placement.h"

#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/log.h"
#include "metrics/server_metrics.h"

namespace aviary::server::placement {

namespace fs = std::filesystem;

namespace {

bool ReadFile(const fs::path& p, std::string* out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

bool ParseInt(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

void Normalize(CpuList* c) {
  std::sort(c->begin(), c->end());
  c->erase(std::unique(c->begin(), c->end()), c->end());
}

bool Digit(char c) { return c >= '0' && c <= '9'; }

bool TokenNames(std::string_view tok, std::string_view name) {
  if (tok == name) return true;
  if (tok.size() > name.size() && tok.substr(0, name.size()) == name) {
    const char next = tok[name.size()];
    if (next == '-') return true;                                                                 // virtio1-req.0
    if (next == 'q' && tok.size() > name.size() + 1 && Digit(tok[name.size() + 1])) return true;  // nvme0q1
  }
  if (tok.find("[" + std::string(name) + "]") != std::string_view::npos) return true;  // ahci[0000:00:1f.2]
  // The chip of a PCI function's MSI IRQs: "PCI-MSIX-0000:00:02.0", "IR-PCI-MSI-0000:00:1f.2".
  return tok.size() > name.size() + 1 && tok.find("PCI-MSI") != std::string_view::npos &&
         tok.substr(tok.size() - name.size()) == name && tok[tok.size() - name.size() - 1] == '-';
}

void Merge(std::vector<int>* into, const std::vector<int>& from) {
  into->insert(into->end(), from.begin(), from.end());
  Normalize(into);
}

DiskIrqs DetectDisk(fs::path dir, const Roots& roots, int depth) {
  DiskIrqs r;
  std::error_code ec;
  if (fs::exists(dir / "partition", ec)) dir = dir.parent_path();  // a partition: its disk
  r.disk = dir.filename().string();
  // Device mapper, md: the disks underneath.
  std::vector<fs::path> slaves;
  for (fs::directory_iterator it(dir / "slaves", ec), end; !ec && it != end; it.increment(ec)) {
    slaves.push_back(it->path());
  }
  if (!slaves.empty()) {
    if (depth >= 4) {
      r.why = r.disk + ": devices stacked too deep";
      return r;
    }
    std::sort(slaves.begin(), slaves.end());
    std::string devices;
    for (const fs::path& s : slaves) {
      fs::path c = fs::canonical(s, ec);
      if (ec) {
        r.why = r.disk + ": cannot resolve " + s.string();
        return r;
      }
      DiskIrqs under = DetectDisk(c, roots, depth + 1);
      if (!under.ok) {
        r.why = r.disk + " on " + under.why;
        return r;
      }
      Merge(&r.irqs, under.irqs);
      Merge(&r.cpus, under.cpus);
      r.stat_files.insert(r.stat_files.end(), under.stat_files.begin(), under.stat_files.end());
      devices += (devices.empty() ? "" : "+") + under.disk + "/" + under.device;
    }
    r.device = devices;
    r.ok = true;
    return r;
  }
  fs::path dev = fs::canonical(dir / "device", ec);
  if (ec) {
    r.why = r.disk + " has no device (a virtual disk: loop, zram, ...)";
    return r;
  }
  r.device = dev.filename().string();
  // The device and its parents up to the first with MSI IRQs (the PCI
  // function): their names, for /proc/interrupts.
  std::vector<std::string> names;
  std::vector<int> irqs;
  fs::path p = dev;
  for (int level = 0; level < 4 && !p.empty(); ++level) {
    const std::string name = p.filename().string();
    if (name.empty() || name == "devices" || name == "platform" || name.rfind("pci", 0) == 0) break;
    names.push_back(name);
    bool msi = false;
    for (fs::directory_iterator it(p / "msi_irqs", ec), end; !ec && it != end; it.increment(ec)) {
      int64_t n = 0;
      if (ParseInt(it->path().filename().string(), &n)) irqs.push_back(static_cast<int>(n));
      msi = true;
    }
    if (msi) break;
    if (p == p.parent_path()) break;
    p = p.parent_path();
  }
  std::string text;
  std::vector<IrqLine> lines;
  if (ReadFile(fs::path(roots.proc) / "interrupts", &text)) lines = ParseInterrupts(text);
  Merge(&irqs, IrqsNamed(lines, names));
  irqs.erase(std::remove_if(irqs.begin(), irqs.end(), [&](int irq) { return IsConfigIrq(lines, irq); }), irqs.end());
  if (irqs.empty()) {
    r.why = r.disk + " (" + r.device + "): no IRQs found";
    return r;
  }
  for (int irq : irqs) {
    const fs::path d = fs::path(roots.proc) / "irq" / std::to_string(irq);
    CpuList cpus;
    std::string t;
    if (!(ReadFile(d / "effective_affinity_list", &t) && ParseCpuList(t, &cpus) && !cpus.empty())) {
      cpus.clear();
      if (!(ReadFile(d / "smp_affinity_list", &t) && ParseCpuList(t, &cpus) && !cpus.empty())) {
        r.why = r.disk + " (" + r.device + "): the CPUs of IRQ " + std::to_string(irq) + " are unknown";
        return r;
      }
    }
    Merge(&r.cpus, cpus);
  }
  r.irqs = irqs;
  r.stat_files.push_back((dir / "stat").string());
  r.ok = true;
  return r;
}

}  // namespace

bool ParseCpuList(std::string_view text, CpuList* out) {
  out->clear();
  text = Trim(text);
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view part = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t dash = part.find('-');
    int64_t lo = 0;
    int64_t hi = 0;
    if (dash == std::string_view::npos) {
      if (!ParseInt(part, &lo)) return false;
      hi = lo;
    } else if (!ParseInt(part.substr(0, dash), &lo) || !ParseInt(part.substr(dash + 1), &hi)) {
      return false;
    }
    if (lo < 0 || hi < lo || hi > 65535) return false;
    for (int64_t c = lo; c <= hi; ++c) out->push_back(static_cast<int>(c));
  }
  Normalize(out);
  return true;
}

std::string FormatCpuList(const CpuList& cpus) {
  if (cpus.empty()) return "none";
  std::string s;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    if (!s.empty()) s += ',';
    s += std::to_string(cpus[i]);
    if (j > i) s += '-' + std::to_string(cpus[j]);
    i = j + 1;
  }
  return s;
}

CpuList Minus(const CpuList& a, const CpuList& b) {
  CpuList out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

CpuList Intersect(const CpuList& a, const CpuList& b) {
  CpuList out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<IrqLine> ParseInterrupts(std::string_view text) {
  std::vector<IrqLine> out;
  size_t ncpu = 0;
  bool header = true;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::vector<std::string_view> f = Split(line);
    if (f.empty()) continue;
    if (header) {  // "CPU0 CPU1 ..."
      header = false;
      if (f[0].rfind("CPU", 0) == 0) {
        ncpu = f.size();
        continue;
      }
    }
    if (f[0].size() < 2 || f[0].back() != ':') continue;
    int64_t irq = 0;
    if (!ParseInt(f[0].substr(0, f[0].size() - 1), &irq)) continue;  // NMI:, LOC:, ...
    IrqLine l;
    l.irq = static_cast<int>(irq);
    size_t i = 1;
    // The per-CPU counts (as many as the header names; all numeric fields
    // when there was no header).
    while (i < f.size() && (ncpu == 0 || i <= ncpu)) {
      int64_t n = 0;
      if (!ParseInt(f[i], &n)) break;
      ++i;
    }
    for (; i < f.size(); ++i) {
      std::string_view t = f[i];
      if (!t.empty() && t.back() == ',') t.remove_suffix(1);  // "name1, name2"
      if (!t.empty()) l.tokens.emplace_back(t);
    }
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<int> IrqsNamed(const std::vector<IrqLine>& lines, const std::vector<std::string>& names) {
  std::vector<int> out;
  for (const IrqLine& l : lines) {
    bool match = false;
    for (const std::string& tok : l.tokens) {
      for (const std::string& n : names) match = match || (!n.empty() && TokenNames(tok, n));
    }
    if (match) out.push_back(l.irq);
  }
  Normalize(&out);
  return out;
}

bool IsConfigIrq(const std::vector<IrqLine>& lines, int irq) {
  for (const IrqLine& l : lines) {
    if (l.irq != irq) continue;
    for (const std::string& t : l.tokens) {
      if (t.size() > 7 && t.compare(t.size() - 7, 7, "-config") == 0) return true;
    }
  }
  return false;
}

std::vector<CpuTimes> ParseProcStat(std::string_view text) {
  std::vector<CpuTimes> out;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::vector<std::string_view> f = Split(line);
    if (f.size() < 5 || f[0].size() <= 3 || f[0].substr(0, 3) != "cpu") continue;  // "cpu" is the sum
    int64_t cpu = 0;
    if (!ParseInt(f[0].substr(3), &cpu)) continue;
    CpuTimes t;
    t.cpu = static_cast<int>(cpu);
    // user nice system idle iowait irq softirq steal [guest guest_nice]:
    // guest time is already in user / nice.
    for (size_t i = 1; i < f.size() && i <= 8; ++i) {
      int64_t v = 0;
      if (!ParseInt(f[i], &v) || v < 0) continue;
      t.total += static_cast<uint64_t>(v);
      if (i != 4 && i != 5) t.busy += static_cast<uint64_t>(v);
    }
    out.push_back(t);
  }
  return out;
}

bool ParseDiskStat(std::string_view text, uint64_t* ios) {
  // Documentation/block/stat.rst: reads completed (field 1), writes
  // completed (5), discards completed (12), flushes completed (16).
  const std::vector<std::string_view> f = Split(Trim(text));
  if (f.size() < 11) return false;
  *ios = 0;
  for (size_t i : {0u, 4u, 11u, 15u}) {
    int64_t v = 0;
    if (i >= f.size()) break;
    if (!ParseInt(f[i], &v) || v < 0) return false;
    *ios += static_cast<uint64_t>(v);
  }
  return true;
}

DiskIrqs DetectDevIrqs(unsigned dev_major, unsigned dev_minor, const Roots& roots) {
  const std::string majmin = std::to_string(dev_major) + ":" + std::to_string(dev_minor);
  std::error_code ec;
  fs::path dir = fs::canonical(fs::path(roots.sys) / "dev" / "block" / majmin, ec);
  if (ec) {
    DiskIrqs r;
    r.why = "no block device " + majmin + " (tmpfs, overlay, ...)";
    return r;
  }
  return DetectDisk(dir, roots, 0);
}

DiskIrqs DetectPathIrqs(const std::string& path, const Roots& roots) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    DiskIrqs r;
    r.why = path + ": " + std::strerror(errno);
    return r;
  }
  return DetectDevIrqs(major(st.st_dev), minor(st.st_dev), roots);
}

// ---------------------------------------------------------------------------

bool ParseSchedstat(std::string_view text, uint64_t* run_ns, uint64_t* wait_ns) {
  const std::vector<std::string_view> f = Split(Trim(text));
  int64_t run = 0;
  int64_t wait = 0;
  if (f.size() < 2 || !ParseInt(f[0], &run) || !ParseInt(f[1], &wait) || run < 0 || wait < 0) return false;
  *run_ns = static_cast<uint64_t>(run);
  *wait_ns = static_cast<uint64_t>(wait);
  return true;
}

bool ParseTaskStatTicks(std::string_view text, uint64_t* ticks) {
  // "tid (comm) state ppid ... utime stime ...": the comm may hold spaces
  // and parentheses, so count from the last ')'; utime and stime are the
  // 14th and 15th fields, the 12th and 13th after the comm.
  const size_t paren = text.rfind(')');
  if (paren == std::string_view::npos) return false;
  const std::vector<std::string_view> f = Split(Trim(text.substr(paren + 1)));
  int64_t utime = 0;
  int64_t stime = 0;
  if (f.size() < 13 || !ParseInt(f[11], &utime) || !ParseInt(f[12], &stime) || utime < 0 || stime < 0) return false;
  *ticks = static_cast<uint64_t>(utime + stime);
  return true;
}

PlacementController::PlacementController(ControllerOptions o) : o_(o), hold_ms_(o.confine_window_ms) {
  o_.quiet_cpus = std::max(1, o_.quiet_cpus);
}

PlacementController::Window PlacementController::Over(int64_t now_ms, int64_t window_ms) const {
  Window w;
  uint64_t busy = 0;
  uint64_t total = 0;
  int64_t run_us = 0;
  int64_t wait_us = 0;
  int64_t ios = 0;
  bool ios_known = true;
  for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
    busy += it->quiet_busy;
    total += it->quiet_total;
    run_us += std::max<int64_t>(0, it->run_us);
    wait_us += std::max<int64_t>(0, it->wait_us);
    if (it->disk_ios < 0) ios_known = false;
    ios += std::max<int64_t>(0, it->disk_ios);
    if (now_ms - it->start_ms >= window_ms) {
      w.covered = true;
      w.span_ms = std::max<int64_t>(1, now_ms - it->start_ms);
      break;
    }
  }
  if (!w.covered) return w;
  w.busy_pct = total == 0 ? 0 : static_cast<int>((busy * 100 + total / 2) / total);
  // us per ms / 10 = % of one CPU.
  w.need_pct = static_cast<int>((run_us + wait_us) / (w.span_ms * 10));
  w.wait_pct = static_cast<int>(wait_us / (w.span_ms * 10));
  w.disk_active = !ios_known || ios * 1000 >= o_.min_disk_ios_per_s * w.span_ms;
  return w;
}

void PlacementController::Switch(int64_t now_ms, bool confine, std::string why) {
  confined_ = confine;
  switched_ms_ = now_ms;
  ++switches_;
  samples_.clear();
  reason_ = std::move(why);
}

PlacementController::Action PlacementController::Feed(const PlacementSample& s) {
  if (s.end_ms < s.start_ms) return Action::kNone;
  samples_.push_back(s);
  const int64_t keep = std::max({o_.confine_window_ms, o_.release_window_ms, o_.idle_release_ms}) * 2;
  while (samples_.size() > 1 && s.end_ms - samples_.front().end_ms > keep) samples_.pop_front();
  const int64_t now = s.end_ms;
  const int q = o_.quiet_cpus;
  if (!confined_) {
    if (switched_ms_ >= 0 && now - switched_ms_ < hold_ms_) return Action::kNone;
    const Window w = Over(now, o_.confine_window_ms);
    if (w.covered && w.disk_active && w.need_pct < o_.confine_below_need_pct * q &&
        w.wait_pct < o_.confine_below_wait_pct && w.busy_pct < o_.confine_below_pct) {
      Switch(now, true,
             "need " + std::to_string(w.need_pct) + "% (wait " + std::to_string(w.wait_pct) + "%), quiet CPUs " +
                 std::to_string(w.busy_pct) + "% busy");
      return Action::kConfine;
    }
    return Action::kNone;
  }
  const Window w = Over(now, o_.release_window_ms);
  std::string why;
  if (w.covered) {
    if (w.need_pct > o_.release_above_need_pct * q) {
      why = "need " + std::to_string(w.need_pct) + "% > " + std::to_string(o_.release_above_need_pct * q) + "%";
    } else if (w.wait_pct > o_.release_above_wait_pct) {
      why = "wait " + std::to_string(w.wait_pct) + "% > " + std::to_string(o_.release_above_wait_pct) + "%";
    } else if (w.busy_pct > o_.release_above_pct) {
      why = "quiet CPUs " + std::to_string(w.busy_pct) + "% busy";
    }
  }
  if (!why.empty()) {
    hold_ms_ =
        now - switched_ms_ < o_.short_confinement_ms ? std::min(hold_ms_ * 2, o_.max_hold_ms) : o_.confine_window_ms;
    Switch(now, false, std::move(why));
    return Action::kRelease;
  }
  const Window idle = Over(now, o_.idle_release_ms);
  if (idle.covered && !idle.disk_active) {  // the disk went idle: no stalls to avoid
    hold_ms_ = o_.confine_window_ms;
    Switch(now, false, "the disk is idle");
    return Action::kRelease;
  }
  return Action::kNone;
}

// ---------------------------------------------------------------------------

bool ParseMode(std::string_view text, Mode* out) {
  if (text == "auto") {
    *out = Mode::kAuto;
  } else if (text == "off") {
    *out = Mode::kOff;
  } else if (text == "confine") {
    *out = Mode::kConfine;
  } else {
    return false;
  }
  return true;
}

const char* ModeName(Mode m) {
  switch (m) {
    case Mode::kOff:
      return "off";
    case Mode::kAuto:
      return "auto";
    case Mode::kConfine:
      return "confine";
  }
  return "?";
}

namespace {

// The process's CPUs at the first Start that placed threads: what a forked
// child gets back (UnconfineForkedChild).
cpu_set_t g_allowed_set;
std::atomic<bool> g_have_allowed{false};

cpu_set_t ToSet(const CpuList& cpus) {
  cpu_set_t s;
  CPU_ZERO(&s);
  for (int c : cpus) {
    if (c < CPU_SETSIZE) CPU_SET(c, &s);
  }
  return s;
}

// /metrics (not mntr, which keeps ZooKeeper's keys): how often the threads
// were confined and released, and for how long they were confined. The
// threads are confined now when confines > releases.
struct PlacementCounters {
  metrics::Counter& confines;
  metrics::Counter& releases;
  metrics::Counter& confined_ms;
};
PlacementCounters& Counters() {
  static PlacementCounters c{
      metrics::Default().AddCounter("aviary_thread_placement_confines",
                                    "times the core and I/O threads were confined to the CPUs that do not take the "
                                    "log disk's interrupts (aviary.threadPlacement)"),
      metrics::Default().AddCounter("aviary_thread_placement_releases",
                                    "times they were released to every CPU (those CPUs got busy)"),
      metrics::Default().AddCounter("aviary_thread_placement_confined_ms", "milliseconds they spent confined"),
  };
  return c;
}

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void UnconfineForkedChild() {
  if (g_have_allowed.load(std::memory_order_acquire)) sched_setaffinity(0, sizeof g_allowed_set, &g_allowed_set);
}

ThreadPlacement::ThreadPlacement(PlacementOptions o) : o_(std::move(o)) {
  Counters();  // on /metrics from the start, 0 where nothing is placed
}

ThreadPlacement::~ThreadPlacement() { Stop(); }

void ThreadPlacement::AddCurrentThread() {
  const pid_t tid = static_cast<pid_t>(::gettid());
  std::lock_guard<std::mutex> lock(mu_);
  tids_.push_back(tid);
  if (confined_.load()) {
    cpu_set_t s = ToSet(quiet_);
    sched_setaffinity(tid, sizeof s, &s);
  }
}

void ThreadPlacement::ApplyLocked(bool confine) {
  cpu_set_t s = ToSet(confine ? quiet_ : allowed_);
  for (pid_t tid : tids_) {
    if (sched_setaffinity(tid, sizeof s, &s) != 0 && errno != ESRCH && !warned_) {  // ESRCH: the thread is gone
      warned_ = true;
      AV_LOG(kWarn, "thread placement: sched_setaffinity of thread {}: {}", tid, std::strerror(errno));
    }
  }
  confined_.store(confine);
}

void ThreadPlacement::Start() {
  if (o_.mode == Mode::kOff) {
    AV_LOG(kInfo, "thread placement: off (aviary.threadPlacement)");
    return;
  }
  if (o_.log_dir.empty()) return;  // in memory: no log device
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) {
    AV_LOG(kInfo, "thread placement: nothing to do (sched_getaffinity: {})", std::strerror(errno));
    return;
  }
  CpuList allowed;
  for (int c = 0; c < CPU_SETSIZE; ++c) {
    if (CPU_ISSET(c, &set)) allowed.push_back(c);
  }
  const DiskIrqs d = DetectPathIrqs(o_.log_dir, o_.roots);
  if (!d.ok) {
    AV_LOG(kInfo, "thread placement: nothing to do: the log's disk interrupts are unknown ({})", d.why);
    return;
  }
  std::string irqs;
  for (int i : d.irqs) irqs += (irqs.empty() ? "" : ",") + std::to_string(i);
  const CpuList noisy = Intersect(allowed, d.cpus);
  const CpuList quiet = Minus(allowed, d.cpus);
  if (noisy.empty() || quiet.empty()) {
    AV_LOG(kInfo,
           "thread placement: nothing to do: the log's disk {} ({}, IRQs {}) interrupts CPUs {}, the server "
           "may use CPUs {}",
           d.disk, d.device, irqs, FormatCpuList(d.cpus), FormatCpuList(allowed));
    return;
  }
  std::lock_guard<std::mutex> lock(mu_);
  allowed_ = allowed;
  quiet_ = quiet;
  disk_stats_ = d.stat_files;
  if (!g_have_allowed.load()) {
    g_allowed_set = set;
    g_have_allowed.store(true, std::memory_order_release);
  }
  active_.store(true);
  if (o_.mode == Mode::kConfine) {
    AV_LOG(kInfo,
           "thread placement: the log's disk {} ({}, IRQs {}) interrupts CPUs {}; the core and I/O threads "
           "stay on CPUs {} (confine)",
           d.disk, d.device, irqs, FormatCpuList(noisy), FormatCpuList(quiet));
    ApplyLocked(true);
    switches_.store(1);
    Counters().confines.Add();
    return;
  }
  o_.controller.quiet_cpus = static_cast<int>(quiet.size());
  const ControllerOptions& c = o_.controller;
  AV_LOG(kInfo,
         "thread placement: the log's disk {} ({}, IRQs {}) interrupts CPUs {}; while the disk works, the core "
         "and I/O threads go to CPUs {} when they need little CPU (under {}% of a CPU with under {}% waiting, "
         "over {} ms) and those have room (under {}% busy), and back to CPUs {} when they need more than {}% "
         "or wait more than {}% (over {} ms)",
         d.disk, d.device, irqs, FormatCpuList(noisy), FormatCpuList(quiet), c.confine_below_need_pct * c.quiet_cpus,
         c.confine_below_wait_pct, c.confine_window_ms, c.confine_below_pct, FormatCpuList(allowed),
         c.release_above_need_pct * c.quiet_cpus, c.release_above_wait_pct, c.release_window_ms);
  stopping_ = false;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "av-place");  // for top -H / perf
    Run();
  });
}

void ThreadPlacement::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

PlacementStats ThreadPlacement::stats() const {
  PlacementStats s;
  s.active = active_.load();
  s.confined = confined_.load();
  s.switches = switches_.load();
  std::lock_guard<std::mutex> lock(mu_);
  s.quiet_cpus = static_cast<int>(quiet_.size());
  return s;
}

namespace {

// The placed threads' summed CPU time and run-queue wait since the previous
// call, in microseconds (wait -1 when the kernel has no schedstat). Threads
// seen for the first time give their baseline; threads gone are dropped.
class ThreadTimes {
 public:
  explicit ThreadTimes(std::string proc) : task_(fs::path(std::move(proc)) / "self" / "task") {}

  void Delta(const std::vector<pid_t>& tids, int64_t* run_us, int64_t* wait_us) {
    const bool schedstat = schedstat_;
    *run_us = 0;
    *wait_us = schedstat ? 0 : -1;
    std::vector<Last> next;
    next.reserve(tids.size());
    for (pid_t tid : tids) {
      uint64_t run = 0;
      uint64_t wait = 0;
      if (!Read(tid, &run, &wait)) continue;  // gone
      next.push_back(Last{tid, run, wait});
      for (const Last& l : last_) {
        if (l.tid != tid || run < l.run_ns || wait < l.wait_ns) continue;
        *run_us += static_cast<int64_t>((run - l.run_ns) / 1000);
        if (schedstat_) *wait_us += static_cast<int64_t>((wait - l.wait_ns) / 1000);
      }
    }
    if (schedstat != schedstat_) {  // switched to stat on the way: the next call gives the baseline
      *run_us = 0;
      *wait_us = -1;
      last_.clear();
      return;
    }
    last_ = std::move(next);
  }

 private:
  struct Last {
    pid_t tid;
    uint64_t run_ns;
    uint64_t wait_ns;
  };
  bool Read(pid_t tid, uint64_t* run_ns, uint64_t* wait_ns) {
    const fs::path dir = task_ / std::to_string(tid);
    std::string text;
    if (schedstat_) {
      if (ReadFile(dir / "schedstat", &text)) return ParseSchedstat(text, run_ns, wait_ns);
      if (!fs::exists(dir)) return false;  // gone
      schedstat_ = false;                  // a kernel without CONFIG_SCHED_INFO: CPU time from stat, no wait
      last_.clear();
    }
    uint64_t ticks = 0;
    if (!ReadFile(dir / "stat", &text) || !ParseTaskStatTicks(text, &ticks)) return false;
    static const int64_t hz = std::max<long>(1, sysconf(_SC_CLK_TCK));
    *run_ns = ticks * (1000000000 / static_cast<uint64_t>(hz));
    *wait_ns = 0;
    return true;
  }

  fs::path task_;
  bool schedstat_ = true;
  std::vector<Last> last_;
};

}  // namespace

void ThreadPlacement::Run() {
  PlacementController ctl(o_.controller);
  const fs::path stat_path = fs::path(o_.roots.proc) / "stat";
  auto read = [&](uint64_t* busy, uint64_t* total) {
    std::string text;
    if (!ReadFile(stat_path, &text)) return false;
    *busy = *total = 0;
    for (const CpuTimes& t : ParseProcStat(text)) {
      if (std::binary_search(quiet_.begin(), quiet_.end(), t.cpu)) {
        *busy += t.busy;
        *total += t.total;
      }
    }
    return true;
  };
  // The disks' completed I/Os, -1 when unknown.
  auto disk = [&]() -> int64_t {
    uint64_t sum = 0;
    for (const std::string& f : disk_stats_) {
      std::string text;
      uint64_t ios = 0;
      if (!ReadFile(f, &text) || !ParseDiskStat(text, &ios)) return -1;
      sum += ios;
    }
    return disk_stats_.empty() ? -1 : static_cast<int64_t>(sum);
  };
  ThreadTimes own(o_.roots.proc);
  std::vector<pid_t> tids;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tids = tids_;
  }
  int64_t run_us = 0;
  int64_t wait_us = 0;
  own.Delta(tids, &run_us, &wait_us);  // the baseline
  uint64_t busy0 = 0;
  uint64_t total0 = 0;
  int64_t ios0 = disk();
  int64_t t0 = SteadyMs();
  if (!read(&busy0, &total0)) {
    AV_LOG(kWarn, "thread placement: cannot read {}; the threads stay where they are", stat_path.string());
    return;
  }
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    cv_.wait_for(lock, std::chrono::milliseconds(o_.sample_ms), [this] { return stopping_; });
    if (stopping_) break;
    tids = tids_;
    lock.unlock();
    uint64_t busy = 0;
    uint64_t total = 0;
    const bool ok = read(&busy, &total);
    const int64_t ios = disk();
    own.Delta(tids, &run_us, &wait_us);
    const int64_t t = SteadyMs();
    lock.lock();
    if (!ok) continue;
    if (busy < busy0 || total < total0) {  // a CPU went offline and back: start over from here
      busy0 = busy;
      total0 = total;
      ios0 = ios;
      t0 = t;
      continue;
    }
    if (ctl.confined()) Counters().confined_ms.Add(t - t0);
    PlacementSample s;
    s.start_ms = t0;
    s.end_ms = t;
    s.quiet_busy = busy - busy0;
    s.quiet_total = total - total0;
    s.run_us = run_us;
    s.wait_us = wait_us;
    s.disk_ios = ios >= 0 && ios0 >= 0 && ios >= ios0 ? ios - ios0 : -1;
    const PlacementController::Action a = ctl.Feed(s);
    busy0 = busy;
    total0 = total;
    ios0 = ios;
    t0 = t;
    if (a == PlacementController::Action::kNone) continue;
    ApplyLocked(a == PlacementController::Action::kConfine);
    switches_.store(ctl.switches());
    (a == PlacementController::Action::kConfine ? Counters().confines : Counters().releases).Add();
    AV_LOG(kDebug, "thread placement: {} ({}; hold {} ms)",
           a == PlacementController::Action::kConfine ? "confined" : "released", ctl.reason(), ctl.hold_ms());
  }
}

}  // namespace aviary::server::placement
