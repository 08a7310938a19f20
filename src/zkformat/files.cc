#include "zkformat/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "proto/jute.h"
#include "storage/layout.h"
#include "zkformat/checksum.h"
#include "zkformat/cursor.h"
#include "zkformat/digest.h"
#include "zkformat/txn_codec.h"

namespace aviary::zkformat {

namespace {

constexpr size_t kFileHeaderBytes = 16;

bool ReadWhole(const std::string& path, std::string* out, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) {
    *error = storage::ErrnoText("open", path, errno);
    return false;
  }
  std::ostringstream ss;
  ss << f.rdbuf();
  if (f.bad()) {
    *error = storage::ErrnoText("read", path, errno);
    return false;
  }
  *out = std::move(ss).str();
  return true;
}

std::string Hex(int64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
  return b;
}

std::string At(const std::string& path, size_t off) { return path + " at offset " + std::to_string(off) + ": "; }

// A seal: long Adler-32 of bytes [0, c.pos()), then ustring "/".
bool CheckSeal(std::string_view all, Cursor& c, const std::string& path, std::string* error) {
  uint32_t want = Adler32Of(all.substr(0, c.pos()));
  size_t at = c.pos();
  int64_t got = c.I64();
  std::string_view slash = c.Buf(1);
  if (!c.ok() || slash != "/") {
    *error = At(path, at) + "missing checksum seal";
    return false;
  }
  if (got != static_cast<int64_t>(want)) {
    *error = At(path, at) + "checksum mismatch";
    return false;
  }
  return true;
}

bool ReadDigestPart(std::string_view all, Cursor& c, const std::string& path, ZkSnapshot* out, std::string* error) {
  ZxidDigest d;
  d.zxid = c.I64();
  d.version = c.I32();
  if (d.version < 2) {
    std::string_view hex = c.Buf(32);
    d.digest = static_cast<int64_t>(std::strtoull(std::string(hex).c_str(), nullptr, 16));
  } else {
    d.digest = c.I64();
  }
  if (!c.ok()) {
    *error = At(path, c.pos()) + "truncated digest section";
    return false;
  }
  if (!CheckSeal(all, c, path, error)) return false;
  out->digest = d;
  return true;
}

bool ReadHeader(Cursor& c, int32_t magic, const std::string& path, int64_t* dbid, std::string* error) {
  int32_t m = c.I32();
  c.I32();  // version: ZooKeeper does not check it either
  *dbid = c.I64();
  if (!c.ok() || m != magic) {
    *error = path + ": not a ZooKeeper " + (magic == kSnapMagic ? "snapshot" : "txn log") + " (bad magic)";
    return false;
  }
  return true;
}

}  // namespace

std::string ZkLogName(int64_t zxid) { return "log." + Hex(zxid); }
std::string ZkSnapshotName(int64_t zxid) { return "snapshot." + Hex(zxid); }

bool ReadZkSnapshotFile(const std::string& path, tree::DataTree* tree, ZkSnapshot* out, std::string* error,
                        SnapshotLimits limits) {
  std::string all;
  return ReadWhole(path, &all, error) && ParseZkSnapshot(all, path, tree, out, error, limits);
}

bool ParseZkSnapshot(std::string_view all, const std::string& path, tree::DataTree* tree, ZkSnapshot* out,
                     std::string* error, SnapshotLimits limits) {
  Cursor c(all);
  if (!ReadHeader(c, kSnapMagic, path, &out->dbid, error)) return false;
  SnapshotLoader loader(tree, limits);
  size_t used = 0;
  SnapshotLoader::Status st = loader.Feed(all.substr(kFileHeaderBytes), &used);
  if (st != SnapshotLoader::Status::kDone) {
    *error = At(path, kFileHeaderBytes + used) +
             (st == SnapshotLoader::Status::kNeedMore ? "truncated snapshot" : loader.error());
    return false;
  }
  out->sessions = loader.sessions();
  out->nodes = loader.nodes();
  Cursor seal(all);
  seal.Skip(kFileHeaderBytes + used);
  if (!CheckSeal(all, seal, path, error)) return false;
  if (seal.remaining() == 0) return true;
  if (!ReadDigestPart(all, seal, path, out, error)) return false;
  if (seal.remaining() != 0) {
    *error = At(path, seal.pos()) + "trailing bytes";
    return false;
  }
  return true;
}

namespace {

bool WriteAll(int fd, std::string_view b, const std::string& path, std::string* error) {
  while (!b.empty()) {
    ssize_t n = ::write(fd, b.data(), b.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      *error = storage::ErrnoText("write", path, errno);
      return false;
    }
    b.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Writes header, body, seal, digest, seal to fd.
bool WriteSnapshotTo(int fd, const std::string& path, int64_t zxid, const tree::DataTree& tree,
                     const std::vector<storage::SessionRecord>& sessions, std::string* error) {
  Adler32 sum;
  auto sink = [&](std::string_view b) {
    sum.Update(b);
    return WriteAll(fd, b, path, error);
  };
  std::string head;
  proto::jute::Writer w(&head);
  w.WriteInt32(kSnapMagic);
  w.WriteInt32(kFileVersion);
  w.WriteInt64(-1);  // FileSnap.dbId
  if (!sink(head) || !WriteSnapshotBody(tree, sessions, sink)) return false;
  auto seal = [&]() {
    std::string s;
    proto::jute::Writer sw(&s);
    sw.WriteInt64(sum.value());
    sw.WriteString("/");
    return sink(s);
  };
  if (!seal()) return false;
  std::string d;
  proto::jute::Writer dw(&d);
  dw.WriteInt64(zxid);
  dw.WriteInt32(kDigestVersion);
  dw.WriteInt64(TreeDigestOf(tree));
  return sink(d) && seal();
}

}  // namespace

bool WriteZkSnapshotFile(const std::string& dir, int64_t zxid, const tree::DataTree& tree,
                         const std::vector<storage::SessionRecord>& sessions, std::string* error) {
  if (!storage::EnsureDir(dir, error)) return false;
  const std::string final_path = dir + "/" + ZkSnapshotName(zxid);
  const std::string tmp = final_path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = storage::ErrnoText("open", tmp, errno);
    return false;
  }
  bool ok = WriteSnapshotTo(fd, tmp, zxid, tree, sessions, error);
  if (ok && ::fsync(fd) != 0) {
    *error = storage::ErrnoText("fsync", tmp, errno);
    ok = false;
  }
  ::close(fd);
  if (ok && ::rename(tmp.c_str(), final_path.c_str()) != 0) {
    *error = storage::ErrnoText("rename", tmp, errno);
    ok = false;
  }
  if (!ok) {
    ::unlink(tmp.c_str());
    return false;
  }
  return storage::FsyncDir(dir, error);
}

bool WriteZkLogFile(const std::string& dir, int64_t first_zxid, const std::vector<std::string>& txns,
                    std::string* error) {
  if (!storage::EnsureDir(dir, error)) return false;
  std::string buf;
  proto::jute::Writer w(&buf);
  w.WriteInt32(kLogMagic);
  w.WriteInt32(kFileVersion);
  w.WriteInt64(0);  // FileTxnLog.dbId
  for (const std::string& t : txns) {
    w.WriteInt64(Adler32Of(t));
    w.WriteBuffer(t);
    buf.push_back('B');
  }
  const std::string path = dir + "/" + ZkLogName(first_zxid);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = storage::ErrnoText("open", path, errno);
    return false;
  }
  bool ok = WriteAll(fd, buf, path, error);
  if (ok && ::fsync(fd) != 0) {
    *error = storage::ErrnoText("fsync", path, errno);
    ok = false;
  }
  ::close(fd);
  return ok && storage::FsyncDir(dir, error);
}

bool ReadZkLogFile(const std::string& path, ZkLog* out, std::string* error, uint32_t max_record_bytes) {
  std::string all;
  return ReadWhole(path, &all, error) && ParseZkLog(all, path, out, error, max_record_bytes);
}

bool ParseZkLog(std::string_view all, const std::string& path, ZkLog* out, std::string* error,
                uint32_t max_record_bytes) {
  Cursor c(all);
  if (!ReadHeader(c, kLogMagic, path, &out->dbid, error)) return false;
  while (c.remaining() > 0) {
    const size_t at = c.pos();
    int64_t crc = c.I64();
    int32_t len = c.I32();
    if (c.ok() && len == 0) break;  // preallocated zero tail: end of data
    if (c.ok() && (len < 0 || static_cast<uint32_t>(len) > max_record_bytes)) {
      *error = At(path, at) + "bad record length " + std::to_string(len);
      return false;
    }
    std::string_view bytes;
    if (c.ok()) {
      c.Skip(static_cast<size_t>(len));
      bytes = all.substr(at + 12, static_cast<size_t>(len));
    }
    uint8_t end = c.U8();
    if (!c.ok() || end != 'B') {
      out->torn_tail = At(path, at) + (c.ok() ? "record without its end marker" : "partial record");
      break;
    }
    if (crc != static_cast<int64_t>(Adler32Of(bytes))) {
      *error = At(path, at) + "checksum mismatch";
      return false;
    }
    out->records.push_back(ZkLogRecord{static_cast<int64_t>(at), std::string(bytes)});
  }
  return true;
}

}  // namespace aviary::zkformat
