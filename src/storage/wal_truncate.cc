#include "storage/wal_truncate.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/failpoint.h"
#include "base/log.h"
#include "storage/layout.h"
#include "storage/segment_repair.h"
#include "storage/wal_reader.h"

namespace aviary::storage {
namespace {

struct Plan {
  std::vector<std::string> snapshots;  // snapshot.<z>, z > Z
  std::vector<std::string> segments;   // newest first
  std::string cut_path;
  int64_t cut_offset = -1;
  int64_t txns_removed = 0;
};

std::string MarkerPath(const std::string& log_dir) { return VersionDir(log_dir) + "/" + kTruncateMarkerName; }

// -1 = off; otherwise the number of steps allowed.
int64_t StopAfter() {
  const std::string prefix = "wal_truncate_stop_after:";
  for (const std::string& s : base::ActiveFailpoints()) {
    if (s.compare(0, prefix.size(), prefix) != 0) continue;
    char* end = nullptr;
    const long long n = std::strtoll(s.c_str() + prefix.size(), &end, 10);
    if (end != s.c_str() + prefix.size() && *end == '\0' && n >= 0) return n;
  }
  return -1;
}

// Counts file steps against the failpoint budget.
struct Steps {
  int64_t budget = StopAfter();
  bool Take(std::string* error) {
    if (budget < 0) return true;
    if (budget == 0) {
      *error = "log truncation stopped (AVIARY_FAILPOINT wal_truncate_stop_after)";
      return false;
    }
    --budget;
    return true;
  }
};

// Scans the segment that may hold Z: where to cut, how many records go,
// whether Z itself is there.
bool PlanCut(const FileEntry& seg, int64_t zxid, Plan* plan, bool* holds, std::string* error) {
  SegmentReader r;
  if (!r.Open(seg.path, error)) return false;
  SegmentRecord rec;
  while (r.Next(&rec)) {
    if (rec.txn.zxid == zxid) *holds = true;
    if (rec.txn.zxid <= zxid) continue;
    if (plan->cut_offset < 0) plan->cut_offset = rec.offset;
    ++plan->txns_removed;
  }
  // Garbage after the data (a torn or damaged tail) goes as well.
  if (plan->cut_offset < 0 && r.end() != SegmentEnd::kClean) plan->cut_offset = r.good_end();
  if (plan->cut_offset >= 0) plan->cut_path = seg.path;
  return true;
}

int64_t CountRecords(const std::string& path) {
  SegmentReader r;
  std::string ignored;
  int64_t n = 0;
  SegmentRecord rec;
  if (!r.Open(path, &ignored)) return 0;
  while (r.Next(&rec)) ++n;
  return n;
}

bool MakePlan(const std::string& snap_dir, const std::string& log_dir, int64_t zxid, Plan* plan, std::string* error) {
  bool holds = zxid == 0;
  for (const FileEntry& s : ListSnapshots(snap_dir)) {
    if (s.zxid > zxid) plan->snapshots.push_back(s.path);
    if (s.zxid == zxid) holds = true;
  }
  const std::vector<FileEntry> segs = ListSegments(log_dir);
  for (size_t i = segs.size(); i-- > 0;) {
    if (segs[i].zxid > zxid) {
      // A segment holds only zxids >= its name.
      plan->segments.push_back(segs[i].path);
      plan->txns_removed += CountRecords(segs[i].path);
      continue;
    }
    if (!PlanCut(segs[i], zxid, plan, &holds, error)) return false;
    break;  // earlier segments hold only zxids below this one's name
  }
  if (!holds) {
    *error = "cannot truncate the log after zxid " + std::to_string(zxid) +
             ": it is neither in the log nor a snapshot's zxid (nothing changed)";
    return false;
  }
  return true;
}

bool RemoveFile(const std::string& path, Steps* steps, TruncateReport* report, std::string* error) {
  if (!steps->Take(error)) return false;
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    *error = ErrnoText("unlink", path, errno);
    return false;
  }
  report->deleted.push_back(path);
  return true;
}

// Everything after the marker is durable; idempotent, so recovery can redo it.
bool Execute(const std::string& snap_dir, const std::string& log_dir, const Plan& plan, Steps* steps,
             TruncateReport* report, std::string* error) {
  for (const std::string& p : plan.snapshots) {
    if (!RemoveFile(p, steps, report, error)) return false;
  }
  if (!plan.snapshots.empty() && !FsyncDir(VersionDir(snap_dir), error)) return false;
  for (const std::string& p : plan.segments) {
    if (!RemoveFile(p, steps, report, error)) return false;
  }
  if (!plan.segments.empty() && !FsyncDir(VersionDir(log_dir), error)) return false;
  if (!plan.cut_path.empty()) {
    if (!steps->Take(error) || !TruncateFile(plan.cut_path, plan.cut_offset, error)) return false;
    report->cut_path = plan.cut_path;
    report->cut_offset = plan.cut_offset;
  }
  report->txns_removed = plan.txns_removed;
  if (!steps->Take(error)) return false;
  const std::string marker = MarkerPath(log_dir);
  if (unlink(marker.c_str()) != 0 && errno != ENOENT) {
    *error = ErrnoText("unlink", marker, errno);
    return false;
  }
  return FsyncDir(VersionDir(log_dir), error);
}

bool ParseMarker(const std::string& path, const std::string& text, int64_t* zxid, std::string* error) {
  char* end = nullptr;
  errno = 0;
  const long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || v < 0 || (*end != '\n' && *end != '\0') || (*end == '\n' && end[1] != '\0')) {
    *error = path + ": not a truncation marker (expected a decimal zxid)";
    return false;
  }
  *zxid = v;
  return true;
}

}  // namespace

bool TruncateLogAfter(const std::string& snap_dir, const std::string& log_dir, int64_t zxid, TruncateReport* report,
                      std::string* error) {
  *report = TruncateReport{};
  Plan plan;
  if (!MakePlan(snap_dir, log_dir, zxid, &plan, error)) return false;
  Steps steps;
  if (!steps.Take(error)) return false;
  if (!EnsureDir(VersionDir(log_dir), error)) return false;
  if (!WriteFileAtomic(MarkerPath(log_dir), std::to_string(zxid) + "\n", error)) return false;
  if (!Execute(snap_dir, log_dir, plan, &steps, report, error)) return false;
  AV_LOG(kInfo, "log truncated after zxid {:#x}: {} txns and {} files removed", zxid, report->txns_removed,
         report->deleted.size());
  return true;
}

bool CompletePendingTruncate(const std::string& snap_dir, const std::string& log_dir, int64_t* zxid,
                             TruncateReport* report, std::string* error) {
  *report = TruncateReport{};
  if (zxid != nullptr) *zxid = -1;
  const std::string marker = MarkerPath(log_dir);
  unlink((marker + ".tmp").c_str());  // a marker never made durable: nothing was changed after it
  std::string text;
  bool missing = false;
  if (!ReadSmallFile(marker, 64, &text, &missing, error)) {
    if (missing) error->clear();
    return missing;
  }
  int64_t z = 0;
  if (!ParseMarker(marker, text, &z, error)) return false;
  Plan plan;
  if (!MakePlan(snap_dir, log_dir, z, &plan, error)) return false;
  Steps steps;
  steps.budget = -1;  // recovery always completes
  if (!Execute(snap_dir, log_dir, plan, &steps, report, error)) return false;
  if (zxid != nullptr) *zxid = z;
  return true;
}

}  // namespace aviary::storage
