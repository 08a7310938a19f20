// The log roll's trim, off the thread that makes the log durable
// (WalOptions::background_roll; docs/perf/storage.md, session 10).
//
// A roll closes the segment and cuts its preallocated tail (up to 64 MiB of
// fallocate()d blocks) with ftruncate. On the storage thread, while the
// roll holds the log's queue, that ftruncate waited for the journal (and
// on ext4 mounted with `discard`, once for a 136 ms discard). The worker
// cuts the tail a while after the roll instead; the storage thread only
// hands over the descriptor.
//
// Crash safety: a crash before the cut leaves zeros after the segment's
// data, which read as the end of data (as a crash before the synchronous
// cut always could).
//
// Zero-ahead (WalOptions::zero_ahead_bytes; docs/perf/storage.md, session
// 12): the worker also writes zeros (and fdatasyncs them) over the open
// segment's fallocate()d blocks ahead of the log's end. A fallocate()d block
// is "unwritten" until its first write, and ext4 converts it after that
// write's I/O completes, in a kernel worker (the ext4-rsv-conversion
// workqueue, one item at a time for the whole file system), and writes the
// inode table block for it: each durable write of the log that enters a new
// block then waits for that worker to be scheduled and for a second write.
// Over blocks written beforehand the durable write is the data and the
// cache flush only. The worker never writes where the log may: it claims a
// range only past the log's published end plus a guard, and the log's owner
// publishes every end (NoteLogEnd) before writing up to it, waiting in the
// rare case that a claim in progress covers that range. It uses a
// descriptor of its own (its fdatasync must not consume a writeback error
// that the log's own must see) and never writes past the preallocated size.
//
// The next segment's head (WalOptions::next_head_bytes; docs/perf/storage.md,
// session 15): zero-ahead starts a guard past the log's end, so the first
// 256 KiB of each new segment would still be unwritten blocks. The worker
// keeps a spare file beside the segments (kSpareName) whose first bytes are
// written zeros, made durable when nothing else is due; at a roll the owner
// renames it to the new segment's name (TakeSpare) before the header goes
// in, and the log's first durable writes land on written blocks. The roll
// does what it did (one header write + fdatasync, the directory's fsync);
// the spare costs that head's bytes of disk. Its name is no segment's, so
// recovery, purge and the tools never see it; a crash leaves at most a
// spare of zeros (replaced by the next one) or a new segment whose header
// is zeros, which reads as a segment torn at its creation (as before).
//
// Threads: every method from the Wal's owner thread; the worker thread is
// private and started at the first Trim, StartZeroing or EnableSpare.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

namespace aviary::storage {

class SegmentWorker {
 public:
  // delay_ms: how long after a roll the tail is cut (clear of the snapshot
  // that asked for the roll).
  // zero_ahead_bytes > 0: keep that many bytes ahead of the log's end
  // written with zeros (StartZeroing), in steps of zero_step_bytes.
  explicit SegmentWorker(int64_t delay_ms, int64_t zero_ahead_bytes = 0, int64_t zero_step_bytes = 1 << 20);
  ~SegmentWorker();  // Drain()
  SegmentWorker(const SegmentWorker&) = delete;
  SegmentWorker& operator=(const SegmentWorker&) = delete;

  // Takes `fd` (a closed segment, written up to `size`): its length is cut
  // to `size` (never grown) after the delay, then fd is closed.
  void Trim(int fd, std::string path, int64_t size);
  // Runs the pending trims at once and waits for them.
  void Drain();

  int64_t trims_done() const;  // tests

  // Zero-ahead of the segment at `path` (just started, its data written up
  // to log_end, preallocated up to limit; its first zeroed_to bytes written
  // already: a spare's head). Replaces any earlier segment's.
  void StartZeroing(const std::string& path, int64_t log_end, int64_t limit, int64_t zeroed_to = 0);
  // Before the owner writes bytes up to `end` (limit: the preallocated size
  // now): no zeros are written below it from now on; waits if a claim in
  // progress overlaps. Wakes the worker when it has fallen behind.
  void NoteLogEnd(int64_t end, int64_t limit);
  // The worker starts no more zeroing of the segment. wait: and none is in
  // progress when this returns (before the owner truncates it); otherwise a
  // range being zeroed is finished first by the worker thread, which also
  // runs the segment's deferred trim (Trim) only after it.
  void StopZeroing(bool wait);
  // Tests: the end of the last range zeroed, and the ranges zeroed so far.
  int64_t zeroed_to() const;
  int64_t zero_steps() const;

  // The spare's name in the segments' directory.
  static constexpr const char* kSpareName = "next-segment.tmp";
  // Keep a spare at `path` whose first head_bytes are written zeros (made
  // when no trim or zeroing is due). Idempotent.
  void EnableSpare(const std::string& path, int64_t head_bytes);
  // Renames a ready spare to `path` (replacing an empty file there): the
  // bytes of written zeros at its head, or 0 when none was ready (the owner
  // creates the file itself). The worker then makes the next one.
  int64_t TakeSpare(const std::string& path);
  // No more spares: waits for one being made, then removes the file.
  void DisableSpare();
  int64_t spares_made() const;  // tests

 private:
  struct TrimTask {
    int fd;
    std::string path;
    int64_t size;
    int64_t due_ms;
  };
  void Run();
  static void DoTrim(const TrimTask& t);
  void StartThreadLocked();
  // The next range to zero, [*from, *to): false when none is due.
  bool NextZeroLocked(int64_t* from, int64_t* to) const;
  // Writes zeros over [from, to) and fdatasyncs them; false on an error.
  bool WriteZeros(int fd, int64_t from, int64_t to) const;
  // Lets go of the open segment's descriptor (closed now, or by the worker
  // after its claim on it).
  void ReleaseZeroFdLocked();
  // Creates `path` with head_bytes of zeros, fdatasynced; false on an error.
  bool MakeSpare(const std::string& path, int64_t head_bytes) const;

  const int64_t delay_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  bool stop_ = false;
  bool draining_ = false;
  bool busy_ = false;  // the worker runs a trim outside mu_
  std::deque<TrimTask> trims_;
  int64_t trims_done_ = 0;

  // Zero-ahead state, under mu_.
  const int64_t zero_ahead_;
  const int64_t zero_step_;
  int zfd_ = -1;  // the worker's own descriptor of the open segment
  std::string zpath_;
  int64_t zlog_end_ = 0;   // the log's published end
  int64_t zlimit_ = 0;     // the preallocated size: never written past
  int64_t zeroed_ = 0;     // end of the last range zeroed
  bool zfilling_ = false;  // the worker is catching up (no wake-ups needed)
  bool zclaimed_ = false;  // a range from zclaim_from_ of zclaim_fd_'s file is being written
  int zclaim_fd_ = -1;
  int64_t zclaim_from_ = 0;
  int64_t zero_steps_ = 0;

  // Spare state, under mu_.
  std::string spare_path_;
  int64_t spare_head_ = 0;
  bool spare_on_ = false;
  bool spare_ready_ = false;
  bool spare_busy_ = false;  // the worker is making one outside mu_
  int64_t spares_made_ = 0;
};

}  // namespace aviary::storage
