#include "storage/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>

#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/layout.h"

namespace aviary::storage {

SnapshotBuilder::SnapshotBuilder(int64_t zxid, std::vector<SessionRecord> sessions, snapblock::Codec codec,
                                 bool deferred_seal)
    : zxid_(zxid), sessions_(std::move(sessions)), codec_(codec), deferred_seal_(deferred_seal) {}

void SnapshotBuilder::Emit(const tree::Node& n, const tree::DataTree& tree, std::string* chunk) {
  encoder_.Node(path_, n, tree.AclOf(n), &raw_);
  ++nodes_;
  if (raw_.size() >= snapblock::kTargetRawBytes) SealBlock(chunk);
}

void SnapshotBuilder::SealBlock(std::string* chunk) {
  if (raw_.empty()) return;
  if (deferred_seal_) {
    raw_blocks_.push_back(RawBlock{blocks_++, std::move(raw_)});
    raw_ = std::string();
    raw_.reserve(snapblock::kTargetRawBytes + (4 << 10));
    return;
  }
  snapblock::Seal(raw_, codec_, blocks_++, chunk);
  raw_.clear();
}

void SnapshotBuilder::NoteSwept(int64_t zxid, const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  snaprec::Encoder::Swept(zxid, paths, &swept_);
}

void SnapshotBuilder::FlushSwept() {
  raw_.append(swept_);
  swept_.clear();
}

void SnapshotBuilder::WriteHeader(const tree::DataTree& tree, std::string* chunk) {
  const size_t start = chunk->size();
  chunk->append(kSnapMagic, sizeof(kSnapMagic));
  bytes::PutU32(chunk, kSnapVersion);
  bytes::PutU32(chunk, 0);
  bytes::PutU64(chunk, static_cast<uint64_t>(zxid_));
  bytes::PutU32(chunk, static_cast<uint32_t>(sessions_.size()));
  for (const SessionRecord& s : sessions_) {
    bytes::PutU64(chunk, static_cast<uint64_t>(s.id));
    bytes::PutU32(chunk, static_cast<uint32_t>(s.timeout_ms));
  }
  bytes::PutU32(chunk, Crc32c(0, chunk->data() + start, chunk->size() - start));
  header_done_ = true;
  const tree::Node* root = tree.Find("/");
  path_ = "/";
  Emit(*root, tree, chunk);
  stack_.push_back(Frame{1, root->stat.czxid(), {}, false, nullptr, {}, false});
}

bool SnapshotBuilder::Resolve(const tree::DataTree& tree, Frame* f) {
  const tree::Node* n = tree.Find(std::string_view(path_).substr(0, f->path_len));
  if (n == nullptr || n->stat.czxid() != f->czxid) return false;  // vanished or re-created: replayed from the log
  f->node = n;
  f->next = f->started ? n->children().upper_bound(f->last) : n->children().begin();
  f->moved = false;
  return true;
}

void SnapshotBuilder::Suspend() {
  // Child pointers and iterators are only good until the tree changes:
  // keep the names to resume from.
  for (Frame& f : stack_) {
    if (f.node != nullptr && f.moved) f.last = *(f.next - 1);
    f.node = nullptr;
  }
}

bool SnapshotBuilder::Step(const tree::DataTree& tree, size_t max_nodes, std::string* chunk, int64_t max_us) {
  if (done_) return true;
  constexpr size_t kClockEvery = 32;
  const auto start = std::chrono::steady_clock::now();
  size_t emitted = 0;
  if (!header_done_) {
    WriteHeader(tree, chunk);
    ++emitted;
  }
  FlushSwept();
  while (!stack_.empty() && emitted < max_nodes) {
    Frame& f = stack_.back();
    if (f.node == nullptr && !Resolve(tree, &f)) {
      stack_.pop_back();
      continue;
    }
    const tree::ChildList::const_iterator end = f.node->children().end();
    if (f.next == end) {
      stack_.pop_back();
      continue;
    }
    const tree::Node* c = f.next.node();
    ++f.next;
    // Siblings lie far apart in the pool and the arena (a parent's children
    // are created among everyone else's): load the node kPrefetchNodes ahead
    // and the record of the one kPrefetchBytes ahead (its node was loaded
    // earlier), so the walk does not wait on two misses per node.
    constexpr std::ptrdiff_t kPrefetchNodes = 8, kPrefetchBytes = 4;
    const std::ptrdiff_t left = end - f.next;
    if (left > kPrefetchNodes) {
      const auto* ahead = reinterpret_cast<const char*>((f.next + kPrefetchNodes).node());
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + sizeof(tree::Node) - 1);
    }
    if (left > kPrefetchBytes) (f.next + kPrefetchBytes).node()->data.Prefetch();
    f.moved = f.started = true;
    path_.resize(f.path_len == 1 ? 0 : f.path_len);
    path_.append("/").append(c->name());
    Emit(*c, tree, chunk);
    stack_.push_back(Frame{path_.size(), c->stat.czxid(), {}, false, c, c->children().begin(), false});
    if (++emitted % kClockEvery == 0 && max_us > 0 &&
        std::chrono::steady_clock::now() - start >= std::chrono::microseconds(max_us)) {
      break;
    }
  }
  Suspend();
  const int64_t us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  ++steps_;
  step_us_total_ += us;
  step_us_max_ = std::max(step_us_max_, us);
  done_ = stack_.empty();
  return done_;
}

std::string SnapshotBuilder::Finish() {
  std::string t;
  FlushSwept();
  SealBlock(&t);
  const size_t at = t.size();
  t.push_back(kSnapEndTag);
  t.append(kSnapTrailerMagic, sizeof(kSnapTrailerMagic));
  bytes::PutU64(&t, nodes_);
  bytes::PutU32(&t, blocks_);
  bytes::PutU32(&t, Crc32c(0, t.data() + at, t.size() - at));
  return t;
}

SnapshotFileWriter::~SnapshotFileWriter() { Abort(); }

bool SnapshotFileWriter::Begin(const std::string& snap_dir, int64_t zxid, std::string* error) {
  Abort();
  dir_ = VersionDir(snap_dir);
  if (!EnsureDir(dir_, error)) return false;
  final_path_ = dir_ + "/" + SnapshotName(zxid);
  tmp_path_ = final_path_ + ".tmp";
  fd_ = open(tmp_path_.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  written_ = written_back_ = waited_ = 0;
  if (fd_ < 0) {
    *error = ErrnoText("open", tmp_path_, errno);
    return false;
  }
  return true;
}

bool SnapshotFileWriter::Write(std::string_view chunk, std::string* error) {
  if (fd_ < 0) {
    *error = "snapshot writer not begun";
    return false;
  }
  while (!chunk.empty()) {
    const ssize_t n = write(fd_, chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      *error = ErrnoText("write", tmp_path_, errno);
      return false;
    }
    chunk.remove_prefix(static_cast<size_t>(n));
    written_ += n;
  }
  return wb_.range_bytes <= 0 || written_ - written_back_ < wb_.range_bytes || StartWriteback(error);
}

bool SnapshotFileWriter::StartWriteback(std::string* error) {
  const int64_t prev = written_back_;                                  // the range before this one: [waited_, prev)
  sync_file_range(fd_, prev, written_ - prev, SYNC_FILE_RANGE_WRITE);  // a hint: errors left to the fsync
  written_back_ = written_;
  if (!wb_.bounded || prev == waited_) return true;
  // Wait for the previous range (its writeback started one range ago) while
  // this one goes out: the snapshot never has more than two ranges queued.
  while (sync_file_range(fd_, waited_, prev - waited_,
                         SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) != 0) {
    if (errno == EINTR) continue;
    if (errno == ENOSYS || errno == EINVAL || errno == ESPIPE) {  // not on this file system: hints only
      wb_.bounded = false;
      return true;
    }
    *error = ErrnoText("sync_file_range", tmp_path_, errno);
    return false;
  }
  waited_ = prev;
  return true;
}

bool SnapshotFileWriter::Commit(std::string* error) {
  if (fd_ < 0) {
    *error = "snapshot writer not begun";
    return false;
  }
  if (fsync(fd_) != 0) {
    *error = ErrnoText("fsync", tmp_path_, errno);
    return false;
  }
  const int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0) {
    *error = ErrnoText("close", tmp_path_, errno);
    unlink(tmp_path_.c_str());
    return false;
  }
  if (std::rename(tmp_path_.c_str(), final_path_.c_str()) != 0) {
    *error = ErrnoText("rename", tmp_path_, errno);
    unlink(tmp_path_.c_str());
    return false;
  }
  tmp_path_.clear();
  return FsyncDir(dir_, error);
}

void SnapshotFileWriter::Abort() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (!tmp_path_.empty()) unlink(tmp_path_.c_str());
  tmp_path_.clear();
}

}  // namespace aviary::storage
