#include "storage/layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace aviary::storage {
namespace {

std::string Hex16(int64_t zxid) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  uint64_t v = static_cast<uint64_t>(zxid);
  for (int i = 15; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kDigits[v & 0xf];
  return s;
}

bool ParseHex(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 16) return false;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return false;
    }
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = static_cast<int64_t>(v);
  return true;
}

bool ParsePrefixed(std::string_view name, std::string_view prefix, int64_t* zxid) {
  if (name.substr(0, prefix.size()) != prefix) return false;
  return ParseHex(name.substr(prefix.size()), zxid);
}

std::vector<FileEntry> List(const std::string& dir, bool (*parse)(std::string_view, int64_t*)) {
  std::vector<FileEntry> out;
  const std::string vdir = VersionDir(dir);
  DIR* d = opendir(vdir.c_str());
  if (d == nullptr) return out;
  while (const dirent* e = readdir(d)) {
    FileEntry f;
    if (!parse(e->d_name, &f.zxid)) continue;
    f.path = vdir + "/" + e->d_name;
    struct stat st;
    if (stat(f.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    f.size = st.st_size;
    out.push_back(std::move(f));
  }
  closedir(d);
  std::sort(out.begin(), out.end(), [](const FileEntry& a, const FileEntry& b) {
    return a.zxid != b.zxid ? a.zxid < b.zxid : a.path < b.path;
  });
  return out;
}

}  // namespace

std::string VersionDir(const std::string& dir) { return dir + "/version-2"; }
std::string SegmentName(int64_t zxid) { return "log." + Hex16(zxid); }
std::string SnapshotName(int64_t zxid) { return "snapshot." + Hex16(zxid); }

bool ParseSegmentName(std::string_view name, int64_t* zxid) { return ParsePrefixed(name, "log.", zxid); }
bool ParseSnapshotName(std::string_view name, int64_t* zxid) { return ParsePrefixed(name, "snapshot.", zxid); }

std::vector<FileEntry> ListSegments(const std::string& dir) { return List(dir, &ParseSegmentName); }
std::vector<FileEntry> ListSnapshots(const std::string& dir) { return List(dir, &ParseSnapshotName); }

std::string ErrnoText(const std::string& what, const std::string& path, int err) {
  return what + " " + path + ": " + std::strerror(err);
}

bool EnsureDir(const std::string& path, std::string* error) {
  if (path.empty()) {
    *error = "empty directory name";
    return false;
  }
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    const std::string part = path.substr(0, i);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = ErrnoText("mkdir", part, errno);
      return false;
    }
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    *error = "not a directory: " + path;
    return false;
  }
  return true;
}

namespace {

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool WriteAllFd(int fd, std::string_view content) {
  size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool WriteFileAtomic(const std::string& path, std::string_view content, std::string* error) {
  const std::string tmp = path + ".tmp";
  const int fd = open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = ErrnoText("open", tmp, errno);
    return false;
  }
  bool ok = WriteAllFd(fd, content);
  if (!ok) *error = ErrnoText("write", tmp, errno);
  if (ok && fsync(fd) != 0) {
    *error = ErrnoText("fsync", tmp, errno);
    ok = false;
  }
  close(fd);
  if (ok && rename(tmp.c_str(), path.c_str()) != 0) {
    *error = ErrnoText("rename", tmp, errno);
    ok = false;
  }
  if (!ok) {
    unlink(tmp.c_str());
    return false;
  }
  return FsyncDir(DirName(path), error);
}

bool ReadSmallFile(const std::string& path, size_t max_bytes, std::string* out, bool* missing, std::string* error) {
  if (missing != nullptr) *missing = false;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT && missing != nullptr) *missing = true;
    *error = ErrnoText("open", path, errno);
    return false;
  }
  out->clear();
  char buf[4096];
  bool ok = true;
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = ErrnoText("read", path, errno);
      ok = false;
      break;
    }
    if (n == 0) break;
    if (out->size() + static_cast<size_t>(n) > max_bytes) {
      *error = path + ": larger than " + std::to_string(max_bytes) + " bytes";
      ok = false;
      break;
    }
    out->append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return ok;
}

bool FsyncDir(const std::string& path, std::string* error) {
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    *error = ErrnoText("open", path, errno);
    return false;
  }
  const bool ok = fsync(fd) == 0;
  if (!ok) *error = ErrnoText("fsync", path, errno);
  close(fd);
  return ok;
}

}  // namespace aviary::storage
