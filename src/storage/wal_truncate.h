// Truncating the log after a zxid: ZAB's TRUNC (a follower drops the txns it
// logged that the new leader does not have). Format and crash reasoning:
// docs/format/wal.md, "Truncation". Single-threaded file I/O; the caller
// must not append to the log meanwhile (Wal::TruncateAfter closes its segment
// first).
//
// TruncateLogAfter(snap_dir, log_dir, Z) leaves the files so that recovery
// ends at exactly Z: every log record with zxid > Z is removed (the segment
// holding Z is cut after Z's record, later segments are deleted) and every
// snapshot.<z> with z > Z is deleted. It is crash-safe through a marker: the
// plan is computed read-only first (nothing changes when Z is not in the
// log), then <log_dir>/version-2/truncate.pending (holding Z, written tmp ->
// fsync -> rename -> fsync dir) makes the intent durable, then snapshots >
// Z, segments newest first, the cut (ftruncate + fsync) and last the marker
// are removed. Recover() finds a marker left by a crash and completes the
// truncation before reading anything (CompletePendingTruncate), so a crash at
// any point leaves either the untouched log (marker not yet durable) or one
// that recovers to Z; txns > Z are never replayed.
//
// Precondition (ZAB's, not checked): no txn > Z was ever applied to a tree a
// snapshot was taken of, i.e. Z is at or after the commit point. Snapshots
// are named by the zxid at which they start; a fuzzy one may contain txns
// applied while it was written, so a snapshot named <= Z is only exact up to
// Z if nothing > Z had been applied.
//
// Failpoint (AVIARY_FAILPOINT, read at each call): wal_truncate_stop_after:N
// stops the truncation after N file steps (1 = the marker is durable, then
// one per deleted file, the cut, the marker's removal) and returns false,
// leaving the files as a crash at that point would.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aviary::storage {

inline constexpr char kTruncateMarkerName[] = "truncate.pending";

struct TruncateReport {
  int64_t txns_removed = 0;
  std::vector<std::string> deleted;  // snapshot and segment paths
  std::string cut_path;              // the segment cut after Z ("" when none was)
  int64_t cut_offset = -1;
};

// See above. false (with *error) when Z is not 0, not a zxid the log holds
// and not a snapshot's zxid (nothing is changed then), or on an I/O error.
bool TruncateLogAfter(const std::string& snap_dir, const std::string& log_dir, int64_t zxid, TruncateReport* report,
                      std::string* error);

// Recovery: when a marker is present, completes the truncation it names and
// removes it; *zxid (optional) is set to Z, or -1 when there was no marker.
bool CompletePendingTruncate(const std::string& snap_dir, const std::string& log_dir, int64_t* zxid,
                             TruncateReport* report, std::string* error);

}  // namespace aviary::storage
