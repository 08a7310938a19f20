#include "storage/snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/layout.h"

namespace aviary::storage {

SnapshotBuilder::SnapshotBuilder(int64_t zxid, std::vector<SessionRecord> sessions, snapblock::Codec codec)
    : zxid_(zxid), sessions_(std::move(sessions)), codec_(codec) {}

void SnapshotBuilder::Emit(const std::string& path, const tree::Node& n, const tree::DataTree& tree,
                           std::string* chunk) {
  encoder_.Node(path, n, tree.AclOf(n), &raw_);
  ++nodes_;
  if (raw_.size() >= snapblock::kTargetRawBytes) SealBlock(chunk);
}

void SnapshotBuilder::SealBlock(std::string* chunk) {
  if (raw_.empty()) return;
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

bool SnapshotBuilder::Step(const tree::DataTree& tree, size_t max_nodes, std::string* chunk) {
  if (done_) return true;
  size_t emitted = 0;
  if (!header_done_) {
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
    Emit("/", *root, tree, chunk);
    ++emitted;
    stack_.push_back(Frame{"/", root->stat.czxid, {}, false, nullptr, {}});
  }
  FlushSwept();
  for (Frame& f : stack_) f.node = nullptr;  // the tree may have changed since the last call
  std::string child;
  while (!stack_.empty() && emitted < max_nodes) {
    Frame& f = stack_.back();
    if (f.node == nullptr) {
      const tree::Node* n = tree.Find(f.path);
      if (n == nullptr || n->stat.czxid != f.czxid) {
        stack_.pop_back();  // vanished or re-created: its subtree is replayed from the log
        continue;
      }
      f.node = n;
      f.next = f.started ? n->children.upper_bound(f.last) : n->children.begin();
    }
    if (f.next == f.node->children.end()) {
      stack_.pop_back();
      continue;
    }
    const std::string_view name = *f.next++;
    f.last = name;
    f.started = true;
    child.assign(f.path.size() == 1 ? "" : f.path).append("/").append(name);
    const tree::Node* c = tree.Find(child);
    if (c == nullptr) continue;
    Emit(child, *c, tree, chunk);
    ++emitted;
    stack_.push_back(Frame{child, c->stat.czxid, {}, false, nullptr, {}});
  }
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
  }
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
