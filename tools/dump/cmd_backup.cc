// backup and restore.
//
// backup copies, from a possibly running server, the newest valid snapshot
// and every log segment from the one holding snapshot_zxid + 1 on; each
// segment copy is cut just after its last complete record (the active one
// may be mid-write; preallocated zeros go too). The snapshot is complete
// before any log byte is copied, and the server logs every txn before
// applying it, so the copied log covers everything the fuzzy snapshot may
// reflect: recovering the backup yields exactly the state at last_zxid.
// A file that disappears meanwhile (purge) makes the attempt restart.
//
// restore checks the manifest (sizes, CRC-32C, contiguous zxids) and copies
// into EMPTY target dirs only.
#include <fmt/core.h>

#include <algorithm>
#include <cstdio>

#include "commands.h"
#include "files.h"
#include "manifest.h"
#include "scan.h"
#include "storage/layout.h"
#include "storage/snapshot_reader.h"
#include "txn_format.h"

namespace aviary::dump {
namespace {

constexpr int kAttempts = 5;

bool AddFile(const std::string& path, Manifest* m, std::string* error) {
  ManifestFile f;
  f.name = BaseName(path);
  if (!FileCrc(path, &f.crc, &f.size, error)) return false;
  m->files.push_back(f);
  return true;
}

// One attempt into out_v (empty version-2 dir of the backup).
bool TryBackup(const std::string& data_dir, const std::string& log_dir, const std::string& out_v, Manifest* m,
               std::string* error) {
  *m = Manifest{};
  std::string snap_path;
  auto snaps = storage::ListSnapshots(data_dir);
  for (auto it = snaps.rbegin(); it != snaps.rend(); ++it) {
    std::string why;
    if (storage::VerifySnapshotFile(it->path, &why)) {
      m->snapshot_zxid = it->zxid;
      snap_path = it->path;
      break;
    }
    std::fprintf(stderr, "warning: skipping invalid snapshot %s\n", why.c_str());
  }
  if (!snap_path.empty()) {
    std::string to = out_v + "/" + BaseName(snap_path);
    if (!CopyFile(snap_path, to, -1, nullptr, error)) return false;
    if (!storage::VerifySnapshotFile(to, error)) return false;  // changed or vanished under us
    if (!AddFile(to, m, error)) return false;
  }
  const int64_t need = m->snapshot_zxid < 0 ? 1 : m->snapshot_zxid + 1;
  auto segs = storage::ListSegments(log_dir);  // listed after the snapshot was chosen
  size_t first = segs.size();
  for (size_t i = 0; i < segs.size(); ++i) {
    if (segs[i].zxid <= need) first = i;
  }
  if (first == segs.size() && !segs.empty() && m->snapshot_zxid < 0) {
    *error = fmt::format("no valid snapshot and the log starts at {}, not at zxid 1", Hex(segs[0].zxid));
    return false;
  }
  if (first == segs.size() && !segs.empty()) {
    *error = fmt::format("no log segment holds zxid {} (the oldest is {})", Hex(need), BaseName(segs[0].path));
    return false;
  }
  m->last_zxid = m->snapshot_zxid < 0 ? 0 : m->snapshot_zxid;
  for (size_t i = first; i < segs.size(); ++i) {
    const bool last = i + 1 == segs.size();
    std::string to = out_v + "/" + BaseName(segs[i].path);
    int64_t copied = 0;
    if (!CopyFile(segs[i].path, to, -1, &copied, error)) return false;
    SegmentScan s = ScanSegment(to);
    if (!s.open_error.empty()) {
      if (last && copied < static_cast<int64_t>(storage::kWalHeaderBytes)) {  // being created
        RemoveTree(to);
        break;
      }
      *error = s.open_error;
      return false;
    }
    bool bad = s.end == storage::SegmentEnd::kCorrupt || (s.end == storage::SegmentEnd::kTorn && !last);
    if (bad || !s.gap.empty()) {
      *error = fmt::format("{}: {}", segs[i].path, bad ? EndText(s) : s.gap);
      return false;
    }
    if (s.records > 0 && s.first_zxid > m->last_zxid + 1 && !Contiguous(m->last_zxid, s.first_zxid)) {
      *error = fmt::format("{}: starts at {} but the backup so far ends at {}", segs[i].path, Hex(s.first_zxid),
                           Hex(m->last_zxid));
      return false;
    }
    if (!TruncateFile(to, s.good_end, error)) return false;
    if (s.records > 0) m->last_zxid = std::max(m->last_zxid, s.last_zxid);
    if (!AddFile(to, m, error)) return false;
  }
  return storage::FsyncDir(out_v, error);
}

bool CheckedCopy(const std::string& from, const ManifestFile& f, const std::string& to_dir, std::string* error) {
  uint32_t crc = 0;
  int64_t size = 0;
  if (!FileCrc(from, &crc, &size, error)) return false;
  if (size != f.size || crc != f.crc) {
    *error = fmt::format("{}: size {} crc {:08x}, manifest says size {} crc {:08x}", from, size, crc, f.size, f.crc);
    return false;
  }
  return CopyFile(from, to_dir + "/" + f.name, -1, nullptr, error);
}

}  // namespace

int CmdBackup(const Args& a) {
  std::string data_dir = a.Get("--data-dir"), out = a.Get("--out");
  if (data_dir.empty() || out.empty() || !a.positional.empty()) {
    std::fprintf(stderr, "usage: aviary-dump backup --data-dir D [--log-dir L] --out BACKUPDIR\n");
    return 2;
  }
  data_dir = ResolveDir(data_dir);
  std::string log_dir = a.Get("--log-dir").empty() ? data_dir : ResolveDir(a.Get("--log-dir"));
  if (!IsMissingOrEmptyDir(out)) {
    std::fprintf(stderr, "aviary-dump: backup target %s is not empty\n", out.c_str());
    return 1;
  }
  std::string out_v = storage::VersionDir(out), error;
  Manifest m;
  bool ok = false;
  for (int attempt = 0; attempt < kAttempts && !ok; ++attempt) {
    RemoveTree(out_v);
    if (!storage::EnsureDir(out_v, &error)) break;
    ok = TryBackup(data_dir, log_dir, out_v, &m, &error);
    if (!ok) std::fprintf(stderr, "backup attempt %d failed: %s\n", attempt + 1, error.c_str());
  }
  if (!ok) {
    std::fprintf(stderr, "aviary-dump: backup failed: %s\n", error.c_str());
    return 1;
  }
  if (!WriteFileDurably(out + "/MANIFEST", ManifestText(m), &error) || !storage::FsyncDir(out, &error)) {
    std::fprintf(stderr, "aviary-dump: %s\n", error.c_str());
    return 1;
  }
  std::printf("backup of %s: snapshot %s, log up to %s, %zu files -> %s\n", data_dir.c_str(),
              m.snapshot_zxid < 0 ? "none" : Hex(m.snapshot_zxid).c_str(), Hex(m.last_zxid).c_str(), m.files.size(),
              out.c_str());
  std::printf("last_zxid %s\n", Hex(m.last_zxid).c_str());
  return 0;
}

int CmdRestore(const Args& a) {
  std::string data_dir = a.Get("--data-dir");
  if (a.positional.size() != 1 || data_dir.empty()) {
    std::fprintf(stderr, "usage: aviary-dump restore BACKUPDIR --data-dir EMPTY [--log-dir EMPTY]\n");
    return 2;
  }
  const std::string& backup = a.positional[0];
  std::string log_dir = a.Get("--log-dir").empty() ? data_dir : a.Get("--log-dir");
  for (const auto& d : {data_dir, log_dir}) {
    if (!IsMissingOrEmptyDir(d)) {
      std::fprintf(stderr, "aviary-dump: refusing to restore into %s: not empty\n", d.c_str());
      return 1;
    }
  }
  std::string text, error;
  Manifest m;
  if (!ReadWholeFile(backup + "/MANIFEST", &text, &error) || !ParseManifest(text, &m, &error)) {
    std::fprintf(stderr, "aviary-dump: %s: %s\n", backup.c_str(), error.c_str());
    return 1;
  }
  std::string snap_v = storage::VersionDir(data_dir), log_v = storage::VersionDir(log_dir);
  if (!storage::EnsureDir(snap_v, &error) || !storage::EnsureDir(log_v, &error)) {
    std::fprintf(stderr, "aviary-dump: %s\n", error.c_str());
    return 1;
  }
  for (const auto& f : m.files) {
    int64_t z = 0;
    bool is_snap = storage::ParseSnapshotName(f.name, &z);
    if (!is_snap && !storage::ParseSegmentName(f.name, &z)) {
      std::fprintf(stderr, "aviary-dump: unexpected file in manifest: %s\n", f.name.c_str());
      return 1;
    }
    if (!CheckedCopy(storage::VersionDir(backup) + "/" + f.name, f, is_snap ? snap_v : log_v, &error)) {
      std::fprintf(stderr, "aviary-dump: %s\n", error.c_str());
      return 1;
    }
  }
  if (!storage::FsyncDir(snap_v, &error) || !storage::FsyncDir(log_v, &error)) {
    std::fprintf(stderr, "aviary-dump: %s\n", error.c_str());
    return 1;
  }
  DirCheck check;
  CheckDir(data_dir, &check);
  if (log_dir != data_dir) CheckDir(log_dir, &check);
  for (const auto& p : check.problems) std::fprintf(stderr, "corrupt: %s\n", p.c_str());
  if (!check.problems.empty()) return 1;
  std::printf("restored %zu files into %s: snapshot %s, last_zxid %s\n", m.files.size(), data_dir.c_str(),
              m.snapshot_zxid < 0 ? "none" : Hex(m.snapshot_zxid).c_str(), Hex(m.last_zxid).c_str());
  return 0;
}

}  // namespace aviary::dump
