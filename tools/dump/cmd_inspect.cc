// list, log and verify: read-only views of segments and snapshots.
#include <fmt/core.h>

#include <cstdio>

#include "commands.h"
#include "files.h"
#include "scan.h"
#include "storage/layout.h"
#include "storage/snapshot_reader.h"
#include "storage/wal_reader.h"
#include "txn_format.h"

namespace aviary::dump {

std::string ResolveDir(const std::string& dir) {
  std::string d = dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  if (!IsDir(storage::VersionDir(d)) && BaseName(d) == "version-2") {
    size_t slash = d.find_last_of('/');
    return slash == std::string::npos ? "." : (slash == 0 ? "/" : d.substr(0, slash));
  }
  return d;
}

bool ParseZxid(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  try {
    size_t used = 0;
    unsigned long long v = std::stoull(s, &used, 0);
    if (used != s.size() || v > static_cast<unsigned long long>(INT64_MAX)) return false;
    *out = static_cast<int64_t>(v);
    return true;
  } catch (...) {
    return false;
  }
}

int CmdList(const Args& a) {
  if (a.positional.empty()) {
    std::fprintf(stderr, "usage: aviary-dump list DIR...\n");
    return 2;
  }
  for (const auto& arg : a.positional) {
    std::string dir = ResolveDir(arg);
    std::printf("%s:\n", storage::VersionDir(dir).c_str());
    for (const auto& f : storage::ListSnapshots(dir)) {
      storage::SnapshotReader r;
      std::string err;
      std::string sessions = r.Open(f.path, &err) ? std::to_string(r.header().sessions.size()) : "?";
      bool valid = storage::VerifySnapshotFile(f.path, &err);
      std::printf("  snapshot %-28s zxid %-12s size %10lld  sessions %s  %s\n", BaseName(f.path).c_str(),
                  Hex(f.zxid).c_str(), static_cast<long long>(f.size), sessions.c_str(),
                  valid ? "valid" : ("INVALID: " + err).c_str());
    }
    for (const auto& f : storage::ListSegments(dir)) {
      SegmentScan s = ScanSegment(f.path);
      if (!s.open_error.empty()) {
        std::printf("  log      %-28s UNREADABLE: %s\n", BaseName(f.path).c_str(), s.open_error.c_str());
        continue;
      }
      std::string range = s.records ? Hex(s.first_zxid) + ".." + Hex(s.last_zxid) : "(empty)";
      std::printf("  log      %-28s zxids %-24s records %7lld  size %10lld  data %10lld  %s\n",
                  BaseName(f.path).c_str(), range.c_str(), static_cast<long long>(s.records),
                  static_cast<long long>(s.file_size), static_cast<long long>(s.good_end), EndText(s).c_str());
    }
  }
  return 0;
}

int CmdLog(const Args& a) {
  if (a.positional.size() != 1) {
    std::fprintf(stderr, "usage: aviary-dump log FILE [--json]\n");
    return 2;
  }
  const std::string& path = a.positional[0];
  storage::SegmentReader r;
  std::string err;
  if (!r.Open(path, &err)) {
    std::fprintf(stderr, "aviary-dump: %s\n", err.c_str());
    return 1;
  }
  if (a.json) {
    std::printf("{\"segment\":%s,\"header_zxid\":%lld,\"file_size\":%lld}\n", JsonString(path).c_str(),
                static_cast<long long>(r.header_zxid()), static_cast<long long>(r.file_size()));
  } else {
    std::printf("segment %s: first zxid %s, %lld bytes\n", path.c_str(), Hex(r.header_zxid()).c_str(),
                static_cast<long long>(r.file_size()));
  }
  storage::SegmentRecord rec;
  int64_t n = 0;
  while (r.Next(&rec)) {
    int64_t bytes = static_cast<int64_t>(storage::kRecordHeaderBytes) + rec.length;
    std::string line = a.json ? TxnJson(rec.txn, rec.offset, bytes) : TxnText(rec.txn, rec.offset, bytes);
    std::printf("%s\n", line.c_str());
    ++n;
  }
  const char* end = r.end() == storage::SegmentEnd::kCorrupt ? "corrupt"
                    : r.end() == storage::SegmentEnd::kTorn  ? "torn"
                                                             : "clean";
  if (a.json) {
    std::printf("{\"end\":\"%s\",\"records\":%lld,\"good_end\":%lld,\"bad_offset\":%lld,\"reason\":%s}\n", end,
                static_cast<long long>(n), static_cast<long long>(r.good_end()), static_cast<long long>(r.bad_offset()),
                JsonString(r.bad_reason()).c_str());
  } else if (r.end() == storage::SegmentEnd::kClean) {
    std::printf("end: clean after %lld records at offset %lld\n", static_cast<long long>(n),
                static_cast<long long>(r.good_end()));
  } else {
    std::printf("end: %s at offset %lld (%s) after %lld records\n", end, static_cast<long long>(r.bad_offset()),
                r.bad_reason().c_str(), static_cast<long long>(n));
  }
  if (r.end() == storage::SegmentEnd::kCorrupt) {
    std::fprintf(stderr, "aviary-dump: %s: corrupt record at offset %lld: %s\n", path.c_str(),
                 static_cast<long long>(r.bad_offset()), r.bad_reason().c_str());
    return 1;
  }
  return 0;
}

int CmdVerify(const Args& a) {
  if (a.positional.empty()) {
    std::fprintf(stderr, "usage: aviary-dump verify DIR...\n");
    return 2;
  }
  DirCheck check;
  for (const auto& arg : a.positional) CheckDir(ResolveDir(arg), &check);
  for (const auto& l : check.lines) std::printf("%s\n", l.c_str());
  for (const auto& w : check.warnings) std::printf("warning: %s\n", w.c_str());
  for (const auto& p : check.problems) std::fprintf(stderr, "corrupt: %s\n", p.c_str());
  if (!check.problems.empty()) {
    std::printf("FAILED: %zu problem(s)\n", check.problems.size());
    return 1;
  }
  std::printf("OK: %zu file(s) verified\n", check.lines.size());
  return 0;
}

}  // namespace aviary::dump
