#include "files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "storage/crc32c.h"
#include "storage/layout.h"

namespace aviary::dump {
namespace {

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

}  // namespace

bool CopyFile(const std::string& from, const std::string& to, int64_t max_bytes, int64_t* copied, std::string* error) {
  int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    *error = storage::ErrnoText("open", from, errno);
    return false;
  }
  int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    *error = storage::ErrnoText("create", to, errno);
    ::close(in);
    return false;
  }
  std::vector<char> buf(1 << 20);
  int64_t total = 0;
  bool ok = true;
  while (max_bytes < 0 || total < max_bytes) {
    size_t want = buf.size();
    if (max_bytes >= 0 && static_cast<int64_t>(want) > max_bytes - total) want = static_cast<size_t>(max_bytes - total);
    ssize_t r = ::read(in, buf.data(), want);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *error = storage::ErrnoText("read", from, errno);
      ok = false;
      break;
    }
    if (r == 0) break;
    if (!WriteAll(out, buf.data(), static_cast<size_t>(r))) {
      *error = storage::ErrnoText("write", to, errno);
      ok = false;
      break;
    }
    total += r;
  }
  if (ok && ::fsync(out) != 0) {
    *error = storage::ErrnoText("fsync", to, errno);
    ok = false;
  }
  ::close(in);
  ::close(out);
  if (copied != nullptr) *copied = total;
  return ok;
}

bool MakeTempDir(const std::string& prefix, std::string* dir, std::string* error) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base ? base : "/tmp") + "/" + prefix + "XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) {
    *error = storage::ErrnoText("mkdtemp", tmpl, errno);
    return false;
  }
  *dir = buf.data();
  return true;
}

void RemoveTree(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

bool IsMissingOrEmptyDir(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return true;
  return std::filesystem::is_directory(path, ec) && std::filesystem::is_empty(path, ec);
}

bool IsDir(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

bool TruncateFile(const std::string& path, int64_t size, std::string* error) {
  if (::truncate(path.c_str(), size) != 0) {
    *error = storage::ErrnoText("truncate", path, errno);
    return false;
  }
  return true;
}

bool WriteFileDurably(const std::string& path, const std::string& content, std::string* error) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = storage::ErrnoText("create", path, errno);
    return false;
  }
  bool ok = WriteAll(fd, content.data(), content.size()) && ::fsync(fd) == 0;
  if (!ok) *error = storage::ErrnoText("write", path, errno);
  ::close(fd);
  return ok;
}

bool ReadWholeFile(const std::string& path, std::string* out, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = storage::ErrnoText("open", path, errno);
    return false;
  }
  out->clear();
  char buf[65536];
  for (;;) {
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *error = storage::ErrnoText("read", path, errno);
      ::close(fd);
      return false;
    }
    if (r == 0) break;
    out->append(buf, static_cast<size_t>(r));
  }
  ::close(fd);
  return true;
}

bool FileCrc(const std::string& path, uint32_t* crc, int64_t* size, std::string* error) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = storage::ErrnoText("open", path, errno);
    return false;
  }
  std::vector<char> buf(1 << 20);
  uint32_t c = 0;
  int64_t n = 0;
  for (;;) {
    ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *error = storage::ErrnoText("read", path, errno);
      ::close(fd);
      return false;
    }
    if (r == 0) break;
    c = storage::Crc32c(c, buf.data(), static_cast<size_t>(r));
    n += r;
  }
  ::close(fd);
  *crc = c;
  *size = n;
  return true;
}

std::string BaseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace aviary::dump
