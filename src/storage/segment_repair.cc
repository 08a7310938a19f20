#include "storage/segment_repair.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace aviary::storage {
namespace {

bool CopyFile(const std::string& from, const std::string& to, std::string* error) {
  const int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    *error = ErrnoText("open", from, errno);
    return false;
  }
  const int out = open(to.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
  if (out < 0) {
    *error = ErrnoText("open", to, errno);
    close(in);
    return false;
  }
  std::string buf(1 << 20, '\0');
  bool ok = true;
  for (;;) {
    const ssize_t n = read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ok = n == 0;
      break;
    }
    if (write(out, buf.data(), static_cast<size_t>(n)) != n) {
      ok = false;
      break;
    }
  }
  ok = ok && fsync(out) == 0;
  if (!ok) *error = "copy " + from + " to " + to + " failed";
  close(in);
  close(out);
  return ok;
}

std::string DirOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace

bool TruncateFile(const std::string& path, int64_t size, std::string* error) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = ErrnoText("open", path, errno);
    return false;
  }
  bool ok = ftruncate(fd, size) == 0;
  if (!ok) *error = ErrnoText("truncate", path, errno);
  if (ok && fsync(fd) != 0) {
    *error = ErrnoText("fsync", path, errno);
    ok = false;
  }
  close(fd);
  return ok;
}

std::vector<std::string> CutLog(const std::vector<FileEntry>& segs, size_t i, int64_t offset) {
  std::vector<std::string> out;
  std::string error;
  const std::string& path = segs[i].path;
  if (CopyFile(path, path + ".corrupt", &error)) {
    out.push_back("saved original of " + path + " as " + path + ".corrupt");
  } else {
    out.push_back("could not save " + path + ": " + error);
  }
  if (TruncateFile(path, offset, &error)) {
    out.push_back("truncated " + path + " at offset " + std::to_string(offset));
  } else {
    out.push_back(error);
  }
  for (size_t j = i + 1; j < segs.size(); ++j) {
    const std::string to = segs[j].path + ".discarded";
    if (std::rename(segs[j].path.c_str(), to.c_str()) == 0) {
      out.push_back("discarded later segment " + segs[j].path + " (renamed " + to + ")");
    } else {
      out.push_back(ErrnoText("rename", segs[j].path, errno));
    }
  }
  FsyncDir(DirOf(path), &error);
  return out;
}

}  // namespace aviary::storage
