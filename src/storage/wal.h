// Write-ahead log writer (format: docs/format/wal.md). One thread at a time
// owns a Wal (the server's storage thread, or the core thread for a group it
// writes itself: DurableCommitter hands it over under its lock); RequestRoll
// alone may be called from any thread: it only sets a flag that the owner's
// MaybeRoll acts on; WriteGroup (groups in flight, below) may run on other
// threads beside the owner. Append frames a txn into a user-space buffer (written
// out when it grows past 1 MiB); Sync writes the buffer and fdatasyncs
// (unless !force_sync): a txn is durable once a Sync that followed its
// Append returned true. When everything since the last Sync is still in the
// buffer (the usual group), Sync writes it with one pwritev2(RWF_DSYNC),
// which is the write and the fdatasync of that range in one system call. Segments are preallocated in
// prealloc_bytes steps (fallocate), or written with zeros ahead of the data
// in zero_fill_bytes steps (WalOptions::zero_fill_bytes); either way bytes
// past the data are zero, and a zero length field marks the end of data. Closing a segment (Close, Roll) cuts the
// preallocated tail off.
// Invariants: each zxid appended to one Wal is the previous one + 1 (or the
// first of a higher epoch, zxid >> 32); Append stops the process (AV_CHECK)
// otherwise, since the log would not replay. A refused Append (over
// max_record_bytes) changes nothing: the Wal stays usable. After any I/O
// failure (write, fdatasync, or the failpoint) the Wal is poisoned: every
// later write fails, because after a failed fsync the kernel may have dropped
// the dirty pages and a retry could falsely succeed. The owner must stop
// acknowledging writes and call Rollback, which cuts the segment back to the
// end of the last successful Sync so that nothing unacknowledged can replay
// after a restart; if Rollback fails too, the outcome of every txn appended
// since that Sync is unknown.
// Failpoints (AVIARY_FAILPOINT, read once in the constructor; several may be
// given, comma-separated): wal_sync_eio makes every Sync fail with EIO;
// wal_sync_eio_after:N lets the first N Syncs succeed (a WriteGroup counts as
// a Sync); wal_group_eio_at:N makes the WriteGroup of the N-th group taken
// (TakeGroup) fail and no other; wal_rollback_eio makes Rollback fail.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "storage/limits.h"
#include "txn/txn.h"

namespace aviary::storage {

struct WalOptions {
  std::string dir;  // dataLogDir; segments go to VersionDir(dir)
  bool force_sync = true;
  int64_t prealloc_bytes = 64 << 20;
  // Largest payload Append takes: MaxTxnBytes(jute.maxbuffer) (limits.h).
  uint32_t max_record_bytes = kMaxRecordBytes;
  // > 0: the segment grows by WRITING zeros, in steps of this many bytes,
  // instead of fallocate()ing prealloc_bytes steps. The zeros go out with
  // the data that first needs the step (the same write and fdatasync). An
  // fdatasync over blocks that are already written changes no metadata
  // (a fallocate()d block is "unwritten" until its first write, which the
  // fdatasync must then commit to the filesystem's journal), so it is the
  // data write and cache flush only, and does not wait for the journal -
  // which on a shared disk also carries everyone else's metadata, and with
  // online discard the trimming of freed blocks. Only the write that opens
  // a step (once per zero_fill_bytes of log) pays a journal commit.
  int64_t zero_fill_bytes = 0;
  // A closed segment's preallocated tail is cut by a worker thread a while
  // after the roll (storage/segment_worker.h), not by the roll on the
  // owner's thread. false: by the roll, as before.
  bool background_roll = false;
  // How long after a roll the worker cuts the closed segment's tail (clear
  // of the snapshot that asked for the roll).
  int64_t background_delay_ms = 2000;
  // > 0 (and not zero-fill mode): a worker thread (storage/segment_worker.h)
  // keeps this many bytes past the log's end of the open segment's
  // fallocate()d blocks written with zeros (and fdatasynced), so that the
  // log's durable writes land on written blocks: no unwritten-extent
  // conversion (a kernel worker's turn and an inode write) in them
  // (docs/perf/storage.md, session 12). The data directory's size does not
  // change: the blocks were preallocated anyway and the roll cuts the tail.
  int64_t zero_ahead_bytes = 0;
  // The worker's step (one pwrite of zeros + fdatasync).
  int64_t zero_step_bytes = 1 << 20;
  // Zero-ahead (and prealloc_bytes > 0): the worker also prepares the NEXT
  // segment's first bytes as written zeros, in a spare file that a roll
  // renames to the new segment's name (storage/segment_worker.h), so that
  // the log's first durable writes after a roll land on written blocks too
  // (zero-ahead starts 256 KiB past the log's end). 0: off.
  int64_t next_head_bytes = 1 << 20;
};

class SegmentWorker;

class Wal {
 public:
  explicit Wal(WalOptions opts);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Creates version-2 if needed and starts a NEW segment log.<next_zxid>
  // (header written and fsynced, directory fsynced). An existing file of
  // that name is replaced only if it holds no valid record; otherwise error.
  bool Open(int64_t next_zxid, std::string* error);
  // Frames + buffers (may write), no fsync. Refuses (false, nothing changed,
  // not poisoned) if the encoding exceeds max_record_bytes; fails when
  // poisoned or when writing the buffer fails; aborts on an out-of-order zxid.
  bool Append(const txn::Txn& t, std::string* error);
  // Writes the buffer; fdatasync unless !force_sync.
  bool Sync(std::string* error);
  // Sync, close the current segment, start log.<next_zxid>.
  bool Roll(int64_t next_zxid, std::string* error);

  // Groups in flight (DurableCommitter with two groups being made durable
  // at once). The owner of the appends takes what it appended since the
  // last group (or Sync) as one Group: its file range is fixed and the
  // buffer is empty again, so the next appends can go on at once. Any
  // thread then makes the group durable with WriteGroup, which touches
  // nothing of this Wal but the descriptor (and atomic counters): two
  // WriteGroups of disjoint groups may run at once, beside the owner's
  // appends. The caller marks groups durable with GroupDurable strictly in
  // order, and only after every earlier group is durable too: synced_zxid()
  // is the durable prefix, where Rollback cuts. While groups are in flight
  // nothing may Sync, Roll, Close or Rollback; after a failed WriteGroup
  // the caller waits for every other one to return, then Rollback. Not in
  // zero-fill mode (a group's zeros would overlap the next group's data).
  struct Group {
    std::string bytes;   // the records (the Wal's buffer, swapped out)
    int64_t offset = 0;  // file offset of bytes
    int64_t end = 0;     // the group's end: offset + bytes.size()
    // Part of the group went out earlier (Append's 1 MiB flush), not
    // durable yet: WriteGroup fdatasyncs the file after writing bytes.
    bool sync_file = false;
    int64_t last_zxid = 0;
    int64_t txns_in_segment = 0;  // after it
    int64_t seq = 0;              // groups taken, from 1 (failpoint wal_group_eio_at)
  };
  // Owner of the appends. False (poisoned) if preallocation fails.
  bool TakeGroup(Group* g, std::string* error);
  // Any thread: writes g.bytes at g.offset and makes them durable (one
  // pwritev2(RWF_DSYNC) where possible; fdatasync unless !force_sync).
  // On failure the Wal is NOT marked poisoned here (other threads may be
  // using it): the caller stops and calls Rollback once alone.
  bool WriteGroup(const Group& g, std::string* error);
  // In group order, under the caller's ordering lock.
  void GroupDurable(const Group& g);
  // Any thread: ask for a roll at the owner's next MaybeRoll (the snapshot
  // code does, at each snapshot, so that purge can drop old segments).
  void RequestRoll() { roll_requested_.store(true); }
  // Owner thread, between appends: when a roll was requested and the open
  // segment holds a txn, Roll(last_zxid() + 1) (a new segment holds only
  // txns >= its name, which purge and LogRangeReader rely on). true when
  // nothing was to do or the roll succeeded; a failed roll poisons the Wal.
  bool MaybeRoll(std::string* error);
  // Sync + close (also done, ignoring errors, by the destructor, unless
  // poisoned: then nothing more is written). Background roll: waits for the
  // trims of closed segments still pending.
  bool Close(std::string* error);
  // After a failure: drops the buffer and truncates the segment to the end
  // of the last successful Sync (durably: ftruncate + fsync). true when
  // nothing appended since that Sync can be found in the file any more.
  // The Wal stays poisoned.
  bool Rollback(std::string* error);

  // ZAB's TRUNC on the open log: Sync + close the current segment, remove
  // every record with zxid > `zxid` from the files (and snapshots newer than
  // it in snap_dir: TruncateLogAfter, wal_truncate.h, crash-safe), then, if
  // a segment was open, start log.<zxid + 1>. Afterwards last_zxid() ==
  // synced_zxid() == zxid and the next Append must follow it. Fails when
  // poisoned or when `zxid` is not in the log; on an I/O error the Wal is
  // poisoned (recovery completes the truncation at the next start).
  bool TruncateAfter(int64_t zxid, const std::string& snap_dir, std::string* error);

  int64_t txns_in_segment() const { return txns_in_segment_; }
  int64_t segment_bytes() const { return write_pos_ + static_cast<int64_t>(buf_.size()); }
  const std::string& segment_path() const { return path_; }
  int64_t last_zxid() const { return last_zxid_; }
  // The last zxid covered by a successful Sync (or before this Wal's first).
  int64_t synced_zxid() const { return synced_zxid_; }
  bool poisoned() const { return poisoned_; }
  // Syncs done as one pwritev2(RWF_DSYNC) (0 where the kernel lacks it).
  int64_t dsync_writes() const { return dsync_writes_done_; }
  // Background roll: the worker (nullptr unless background_roll and opened once).
  SegmentWorker* segment_worker() const { return worker_.get(); }

 private:
  bool StartSegment(int64_t next_zxid, std::string* error);
  // Sync + close the open segment; its preallocated tail is cut here, or
  // by the worker later when defer_trim and background_roll.
  bool CloseSegment(bool defer_trim, std::string* error);
  bool WriteBuffer(std::string* error);
  // The buffer with RWF_DSYNC: 1 all written and durable, 0 not (or not
  // all: unsupported, a short write; WriteBuffer + fdatasync go on), -1 failed.
  int WriteBufferDsync(std::string* error);
  // Preallocates up to `end` (fallocate steps) and, zero-ahead, publishes
  // `end` to the worker before anything is written below it.
  bool EnsureAllocated(int64_t end, std::string* error);
  // Zero-ahead: the worker starts no more zeroing of the open segment;
  // wait: and has none in progress (before a truncation by this thread).
  void StopZeroing(bool wait);
  // Zero-fill mode: the zero bytes to write after the buffer (from
  // write_pos_ + buf_.size() up to the next step) so the file's written
  // part covers the data; 0 when it already does.
  int64_t ZeroTail() const;
  // pwrite of `n` zero bytes at `at` (zero-fill mode), all of it.
  bool WriteZeros(int64_t at, int64_t n, std::string* error);
  bool Fail(std::string msg, std::string* error);
  void MarkSynced();
  // Failpoint wal_sync_eio[_after]: false when this Sync must fail.
  bool TakeSyncBudget();

  WalOptions opts_;
  int fd_ = -1;
  std::string path_;
  std::string buf_;
  int64_t write_pos_ = 0;  // file offset where buf_ starts
  int64_t allocated_ = 0;  // file size after preallocation (zero-fill mode: bytes written, data or zeros)
  int64_t txns_in_segment_ = 0;
  int64_t last_zxid_ = 0;
  int64_t synced_pos_ = 0;  // file offset up to which the last Sync made data durable
  int64_t synced_zxid_ = 0;
  int64_t synced_txns_ = 0;  // txns_in_segment_ at that Sync
  bool poisoned_ = false;
  std::atomic<bool> dsync_writes_{true};  // pwritev2(RWF_DSYNC) works here
  std::atomic<int64_t> dsync_writes_done_{0};
  // Failpoints: -1 = off; otherwise Syncs (and WriteGroups) allowed before EIO.
  std::atomic<int64_t> sync_budget_{-1};
  int64_t fail_group_at_ = 0;  // wal_group_eio_at:N: WriteGroup of group N fails (0: off)
  int64_t groups_taken_ = 0;
  int64_t group_end_ = 0;  // end of the bytes handed to the last Sync or TakeGroup
  bool rollback_eio_ = false;
  std::atomic<bool> roll_requested_{false};
  bool zeroing_ = false;                   // zero-ahead runs on the open segment
  std::unique_ptr<SegmentWorker> worker_;  // background_roll; last member: joined first
};

}  // namespace aviary::storage
