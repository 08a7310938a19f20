#include <unistd.h>

#include <algorithm>

#include "base/log.h"
#include "storage/recovery.h"

namespace aviary::storage {

void Purge(const std::string& snap_dir, const std::string& log_dir, int retain) {
  retain = std::max(retain, 3);
  const std::vector<FileEntry> snaps = ListSnapshots(snap_dir);
  // Count only snapshots that verify: an invalid one must not push a valid
  // one (and the logs it needs) out.
  int kept = 0;
  size_t oldest = snaps.size();
  for (size_t i = snaps.size(); i-- > 0 && kept < retain;) {
    std::string error;
    if (VerifySnapshotFile(snaps[i].path, &error)) {
      ++kept;
      oldest = i;
    }
  }
  if (kept < retain) return;  // not enough history to drop anything
  const int64_t base = snaps[oldest].zxid;
  std::string error;
  for (size_t i = 0; i < oldest; ++i) {
    if (unlink(snaps[i].path.c_str()) == 0) AV_LOG(kInfo, "purged {}", snaps[i].path);
  }
  FsyncDir(VersionDir(snap_dir), &error);
  const std::vector<FileEntry> segs = ListSegments(log_dir);
  size_t first = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].zxid <= base + 1) first = i;
  }
  for (size_t i = 0; i < first; ++i) {
    if (unlink(segs[i].path.c_str()) == 0) AV_LOG(kInfo, "purged {}", segs[i].path);
  }
  FsyncDir(VersionDir(log_dir), &error);
}

}  // namespace aviary::storage
