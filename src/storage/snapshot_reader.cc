#include "storage/snapshot_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/layout.h"
#include "storage/snapshot_node.h"

namespace aviary::storage {
namespace {

bool PreadAll(int fd, char* p, size_t n, int64_t off) {
  while (n > 0) {
    const ssize_t r = pread(fd, p, n, off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
    off += r;
  }
  return true;
}

std::string At(const std::string& path, int64_t off) { return path + " at offset " + std::to_string(off); }

bool VerifyV3File(const std::string& path, std::string* error) {
  MappedFile map;
  if (!map.Map(path, error)) return false;
  if (std::memcmp(map.data(), kSnapMagic, sizeof(kSnapMagic)) != 0) {
    *error = path + ": not an Aviary snapshot (bad magic at offset 0)";
    return false;
  }
  SnapshotHeader header;
  SnapshotBody body;
  if (!ParseV3Frame(map.data(), map.size(), path, &header, &body, error)) return false;
  *error = VerifySnapshotBody(body);
  return error->empty();
}

}  // namespace

bool VerifySnapshotFile(const std::string& path, std::string* error) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = ErrnoText("open", path, errno);
    return false;
  }
  struct stat st;
  bool ok = fstat(fd, &st) == 0;
  const int64_t size = ok ? st.st_size : 0;
  std::string head(4, '\0');
  if (!ok) {
    *error = ErrnoText("stat", path, errno);
  } else if (size >= 4 && PreadAll(fd, head.data(), 4, 0) && head == "ZKSN") {
    *error = path + " is a ZooKeeper snapshot, not an Aviary snapshot (formats are incompatible)";
    ok = false;
  } else if (size < static_cast<int64_t>(kSnapHeaderBytes + kSnapTrailerBytes)) {
    *error = path + ": truncated snapshot (" + std::to_string(size) + " bytes)";
    ok = false;
  }
  if (ok && size >= 12 && PreadAll(fd, head.data(), 4, 8) && bytes::GetU32(head.data()) == kSnapVersion) {
    close(fd);
    return VerifyV3File(path, error);
  }
  if (ok) {
    std::string buf(1 << 20, '\0');
    uint32_t crc = 0;
    const int64_t covered = size - 4;
    for (int64_t off = 0; ok && off < covered;) {
      const size_t n = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(buf.size()), covered - off));
      if (!PreadAll(fd, buf.data(), n, off)) {
        *error = "read " + At(path, off) + " failed";
        ok = false;
        break;
      }
      if (off == 0 && std::memcmp(buf.data(), kSnapMagic, sizeof(kSnapMagic)) != 0) {
        *error = path + ": not an Aviary snapshot (bad magic at offset 0)";
        ok = false;
        break;
      }
      crc = Crc32c(crc, buf.data(), n);
      off += static_cast<int64_t>(n);
    }
    char tail[kSnapTrailerBytes];
    const int64_t toff = size - static_cast<int64_t>(kSnapTrailerBytes);
    if (ok && !PreadAll(fd, tail, sizeof(tail), toff)) {
      *error = "read " + At(path, toff) + " failed";
      ok = false;
    }
    if (ok && (tail[0] != kSnapEndTag || std::memcmp(tail + 1, kSnapTrailerMagic, 8) != 0)) {
      *error = path + ": missing trailer (incomplete snapshot) " + At("", toff).substr(1);
      ok = false;
    }
    if (ok && bytes::GetU32(tail + 17) != crc) {
      *error = path + ": checksum mismatch (trailer " + At("", size - 4).substr(1) + ")";
      ok = false;
    }
  }
  close(fd);
  return ok;
}

SnapshotReader::~SnapshotReader() {
  if (f_ != nullptr) std::fclose(f_);
}

bool SnapshotReader::Fail(const std::string& what) {
  error_ = path_ + ": " + what + " at offset " + std::to_string(offset_);
  done_ = false;
  return false;
}

bool SnapshotReader::ReadExact(size_t n, std::string* out) {
  if (static_cast<int64_t>(n) > size_ - offset_) return false;
  out->resize(n);
  if (n > 0 && std::fread(out->data(), 1, n, f_) != n) return false;
  offset_ += static_cast<int64_t>(n);
  return true;
}

bool SnapshotReader::Open(const std::string& path, std::string* error) {
  path_ = path;
  f_ = std::fopen(path.c_str(), "rbe");
  if (f_ == nullptr) {
    *error = ErrnoText("open", path, errno);
    return false;
  }
  std::setvbuf(f_, nullptr, _IOFBF, 1 << 20);
  struct stat st;
  if (fstat(fileno(f_), &st) != 0) {
    *error = ErrnoText("stat", path, errno);
    return false;
  }
  size_ = st.st_size;
  if (!ReadExact(kSnapHeaderBytes, &buf_)) {
    *error = path + ": truncated snapshot header";
    return false;
  }
  if (buf_.compare(0, 4, "ZKSN") == 0) {
    *error = path + " is a ZooKeeper snapshot, not an Aviary snapshot (formats are incompatible)";
    return false;
  }
  if (std::memcmp(buf_.data(), kSnapMagic, sizeof(kSnapMagic)) != 0) {
    *error = path + ": not an Aviary snapshot (bad magic at offset 0)";
    return false;
  }
  header_.version = bytes::GetU32(buf_.data() + 8);
  if (header_.version == kSnapVersion) return OpenV3(error);
  if (header_.version != kSnapVersionV2 && header_.version != 1) {
    *error = path + ": unsupported snapshot version " + std::to_string(header_.version) + " at offset 8";
    return false;
  }
  header_.zxid = static_cast<int64_t>(bytes::GetU64(buf_.data() + 16));
  const uint32_t sessions = bytes::GetU32(buf_.data() + 24);
  crc_ = Crc32c(0, buf_.data(), buf_.size());
  if (uint64_t{sessions} * kSnapSessionBytes > static_cast<uint64_t>(size_ - offset_)) {
    *error = path + ": session count " + std::to_string(sessions) + " exceeds the file at offset 24";
    return false;
  }
  if (!ReadExact(size_t{sessions} * kSnapSessionBytes, &buf_)) {
    *error = path + ": truncated session table";
    return false;
  }
  crc_ = Crc32c(crc_, buf_.data(), buf_.size());
  header_.sessions.resize(sessions);
  for (uint32_t i = 0; i < sessions; ++i) {
    const char* p = buf_.data() + size_t{i} * kSnapSessionBytes;
    header_.sessions[i] = {static_cast<int64_t>(bytes::GetU64(p)), static_cast<int32_t>(bytes::GetU32(p + 8))};
  }
  return true;
}

// 'D': u32 length, i64 zxid, u32 count, count x (u32 length + path bytes).
bool SnapshotReader::ReadSwept(int64_t rec_off) {
  crc_ = Crc32c(crc_, buf_.data(), 5);
  const uint32_t len = bytes::GetU32(buf_.data() + 1);
  if (len < 12 || len > kMaxRecordBytes || len > size_ - offset_) {
    offset_ = rec_off;
    return Fail("swept record length " + std::to_string(len) + " out of bounds");
  }
  if (!ReadExact(len, &buf_)) return Fail("truncated swept record");
  crc_ = Crc32c(crc_, buf_.data(), buf_.size());
  const int64_t zxid = static_cast<int64_t>(bytes::GetU64(buf_.data()));
  const uint32_t count = bytes::GetU32(buf_.data() + 8);
  std::vector<std::string>& paths = swept_[zxid];
  size_t at = 12;
  for (uint32_t i = 0; i < count; ++i) {
    if (buf_.size() - at < 4 || bytes::GetU32(buf_.data() + at) > buf_.size() - at - 4) {
      offset_ = rec_off;
      return Fail("malformed swept record");
    }
    const uint32_t plen = bytes::GetU32(buf_.data() + at);
    paths.emplace_back(buf_.data() + at + 4, plen);
    at += 4 + plen;
  }
  if (at != buf_.size()) {
    offset_ = rec_off;
    return Fail("malformed swept record");
  }
  return true;
}

bool SnapshotReader::OpenV3(std::string* error) {
  std::fclose(f_);
  f_ = nullptr;
  if (!map_.Map(path_, error)) return false;
  SnapshotBody body;
  if (!ParseV3Frame(map_.data(), map_.size(), path_, &header_, &body, error)) return false;
  if (threaded_) {
    pump_ = std::make_unique<SnapshotPump>(std::move(body));
  } else {
    stream_ = std::make_unique<SnapshotStream>(std::move(body));
  }
  return true;
}

bool SnapshotReader::NextV3(NodeView* n) {
  const SnapshotStream::Result r = pump_ ? pump_->Next(n) : stream_->Next(n);
  if (r == SnapshotStream::Result::kNode) {
    ++nodes_;
    return true;
  }
  done_ = r == SnapshotStream::Result::kEnd;
  if (!done_) error_ = pump_ ? pump_->error() : stream_->error();
  return false;
}

const std::map<int64_t, std::vector<std::string>>& SnapshotReader::swept() const {
  if (pump_) return pump_->swept();
  if (stream_) return stream_->swept();
  return swept_;
}

int64_t SnapshotReader::offset() const {
  if (pump_) return pump_->offset();
  if (stream_) return stream_->offset();
  return offset_;
}

bool SnapshotReader::Next(SnapshotNode* n) {
  if (done_ || !error_.empty()) return false;
  if (!stream_ && !pump_) return NextOld(n);
  NodeView v;
  if (!NextV3(&v)) return false;
  CopyNode(v, n);
  return true;
}

bool SnapshotReader::Next(NodeView* n) {
  if (done_ || !error_.empty()) return false;
  if (stream_ || pump_) return NextV3(n);
  if (!NextOld(&old_)) return false;
  n->path = old_.path;
  n->data = old_.node.data.view();
  n->stat = old_.node.persisted();
  n->kind = old_.node.kind;
  n->data_null = old_.node.data_null;
  n->acl = &old_.acl;
  return true;
}

bool SnapshotReader::NextOld(SnapshotNode* n) {
  int64_t rec_off = offset_;
  if (!ReadExact(5, &buf_)) return Fail("truncated record");
  while (buf_[0] == kSnapSweptTag) {
    if (!ReadSwept(rec_off)) return false;
    rec_off = offset_;
    if (!ReadExact(5, &buf_)) return Fail("truncated record");
  }
  if (buf_[0] == kSnapEndTag) {
    // 'E' + 8 magic + 8 count (+ 4 CRC, not covered by itself).
    crc_ = Crc32c(crc_, buf_.data(), 5);
    std::string rest;
    if (!ReadExact(12, &rest)) return Fail("truncated trailer");
    crc_ = Crc32c(crc_, rest.data(), rest.size());
    std::string magic = buf_.substr(1) + rest.substr(0, 4);
    if (std::memcmp(magic.data(), kSnapTrailerMagic, 8) != 0) return Fail("bad trailer magic");
    const uint64_t count = bytes::GetU64(rest.data() + 4);
    if (count != nodes_) return Fail("trailer node count " + std::to_string(count) + " != " + std::to_string(nodes_));
    if (!ReadExact(4, &rest)) return Fail("truncated trailer");
    if (bytes::GetU32(rest.data()) != crc_) return Fail("checksum mismatch");
    if (offset_ != size_) return Fail("bytes after the trailer");
    done_ = true;
    return false;
  }
  if (buf_[0] != kSnapNodeTag) {
    offset_ = rec_off;
    return Fail("bad record tag");
  }
  crc_ = Crc32c(crc_, buf_.data(), 5);
  const uint32_t len = bytes::GetU32(buf_.data() + 1);
  if (len > kMaxSnapNodeBytes || len > size_ - offset_) {
    offset_ = rec_off;
    return Fail("node record length " + std::to_string(len) + " out of bounds");
  }
  if (!ReadExact(len, &buf_)) return Fail("truncated node record");
  crc_ = Crc32c(crc_, buf_.data(), buf_.size());
  if (!snapnode::DecodeBody(buf_, &n->path, &n->node, &n->acl)) {
    offset_ = rec_off;
    return Fail("malformed node record");
  }
  ++nodes_;
  return true;
}

}  // namespace aviary::storage
