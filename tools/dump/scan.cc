#include "scan.h"

#include <fmt/core.h>

#include "files.h"
#include "storage/layout.h"
#include "storage/snapshot_reader.h"
#include "txn_format.h"

namespace aviary::dump {

bool Contiguous(int64_t prev, int64_t next) { return next == prev + 1 || (next >> 32) > (prev >> 32); }

SegmentScan ScanSegment(const std::string& path) {
  SegmentScan s;
  s.path = path;
  storage::SegmentReader r;
  if (!r.Open(path, &s.open_error)) {
    if (s.open_error.empty()) s.open_error = "cannot open " + path;
    return s;
  }
  s.header_zxid = r.header_zxid();
  s.file_size = r.file_size();
  storage::SegmentRecord rec;
  while (r.Next(&rec)) {
    if (s.records > 0 && s.gap.empty() && !Contiguous(s.last_zxid, rec.txn.zxid)) {
      s.gap = fmt::format("zxid {} follows {} at offset {}", Hex(rec.txn.zxid), Hex(s.last_zxid), rec.offset);
    }
    if (s.records == 0) s.first_zxid = rec.txn.zxid;
    s.last_zxid = rec.txn.zxid;
    ++s.records;
  }
  s.end = r.end();
  s.good_end = r.good_end();
  s.bad_offset = r.bad_offset();
  s.bad_reason = r.bad_reason();
  return s;
}

std::string EndText(const SegmentScan& s) {
  switch (s.end) {
    case storage::SegmentEnd::kClean:
      return "clean";
    case storage::SegmentEnd::kTorn:
      return fmt::format("torn at offset {} ({})", s.bad_offset, s.bad_reason);
    case storage::SegmentEnd::kCorrupt:
      return fmt::format("CORRUPT at offset {} ({})", s.bad_offset, s.bad_reason);
    case storage::SegmentEnd::kNone:
      break;
  }
  return "unread";
}

void CheckDir(const std::string& dir, DirCheck* out) {
  for (const auto& f : storage::ListSnapshots(dir)) {
    std::string err;
    if (storage::VerifySnapshotFile(f.path, &err)) {
      out->lines.push_back(fmt::format("ok       {} ({} bytes)", f.path, f.size));
    } else {
      out->lines.push_back(fmt::format("CORRUPT  {}: {}", f.path, err));
      out->problems.push_back(err.empty() ? f.path + ": invalid snapshot" : err);
    }
  }
  auto segs = storage::ListSegments(dir);
  int64_t prev_last = -1;
  std::string prev_name;
  for (size_t i = 0; i < segs.size(); ++i) {
    const bool last = i + 1 == segs.size();
    SegmentScan s = ScanSegment(segs[i].path);
    if (!s.open_error.empty()) {
      out->lines.push_back(fmt::format("CORRUPT  {}: {}", s.path, s.open_error));
      out->problems.push_back(fmt::format("{}: offset 0: {}", s.path, s.open_error));
      continue;
    }
    std::string range = s.records ? fmt::format("zxid {}..{}", Hex(s.first_zxid), Hex(s.last_zxid)) : "empty";
    out->lines.push_back(fmt::format("{}  {} ({} records, {}; {})",
                                     s.end == storage::SegmentEnd::kCorrupt ? "CORRUPT " : "ok      ", s.path,
                                     s.records, range, EndText(s)));
    if (s.end == storage::SegmentEnd::kCorrupt || (s.end == storage::SegmentEnd::kTorn && !last)) {
      out->problems.push_back(fmt::format("{}: offset {}: {}", s.path, s.bad_offset, s.bad_reason));
    } else if (s.end == storage::SegmentEnd::kTorn) {
      out->warnings.push_back(
          fmt::format("{}: torn tail at offset {} ({}), {} bytes after the last good record; "
                      "recovery truncates it",
                      s.path, s.bad_offset, s.bad_reason, s.file_size - s.good_end));
    }
    if (!s.gap.empty()) out->problems.push_back(fmt::format("{}: {}", s.path, s.gap));
    if (s.records > 0 && segs[i].zxid != s.first_zxid) {
      out->problems.push_back(
          fmt::format("{}: first record has zxid {}, the name says {}", s.path, Hex(s.first_zxid), Hex(segs[i].zxid)));
    }
    if (s.records > 0 && prev_last >= 0 && !Contiguous(prev_last, s.first_zxid)) {
      out->problems.push_back(fmt::format("{}: starts at zxid {} but {} ends at {} (missing records)", s.path,
                                          Hex(s.first_zxid), prev_name, Hex(prev_last)));
    }
    if (s.records > 0) {
      prev_last = s.last_zxid;
      prev_name = BaseName(s.path);
    }
  }
}

}  // namespace aviary::dump
