#include "base/rotating_file.h"

#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace aviary::base {

std::string BackupName(const std::string& path, int index) { return fmt::format("{}.{}", path, index); }

RotatingFile::~RotatingFile() { Close(); }

void RotatingFile::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RotatingFile::Open(const std::string& path, int64_t max_file_bytes, int max_backups, std::string* error) {
  path_ = path;
  max_file_bytes_ = max_file_bytes;
  max_backups_ = max_backups;
  return Reopen(error);
}

bool RotatingFile::Reopen(std::string* error) {
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    *error = fmt::format("cannot open {}: {}", path_, std::strerror(errno));
    return false;
  }
  struct stat st {};
  size_bytes_ = ::fstat(fd, &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
  Close();
  fd_ = fd;
  return true;
}

bool RotatingFile::Rotate(std::string* error) {
  if (max_backups_ > 0) {
    std::remove(BackupName(path_, max_backups_).c_str());
    for (int i = max_backups_ - 1; i >= 1; --i) {
      std::rename(BackupName(path_, i).c_str(), BackupName(path_, i + 1).c_str());
    }
    if (std::rename(path_.c_str(), BackupName(path_, 1).c_str()) != 0 && errno != ENOENT) {
      *error = fmt::format("cannot rename {}: {}", path_, std::strerror(errno));
      return false;
    }
  } else if (::ftruncate(fd_, 0) != 0) {
    *error = fmt::format("cannot truncate {}: {}", path_, std::strerror(errno));
    return false;
  }
  ++rotations_;
  return Reopen(error);
}

bool RotatingFile::Write(std::string_view text, std::string* error) {
  if (fd_ < 0 && !Reopen(error)) return false;
  const int64_t n = static_cast<int64_t>(text.size());
  if (max_file_bytes_ > 0 && size_bytes_ > 0 && size_bytes_ + n > max_file_bytes_ && !Rotate(error)) return false;
  size_t done = 0;
  while (done < text.size()) {
    ssize_t w = ::write(fd_, text.data() + done, text.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      *error = fmt::format("cannot write {}: {}", path_, std::strerror(errno));
      return false;
    }
    done += static_cast<size_t>(w);
    size_bytes_ += w;
  }
  return true;
}

}  // namespace aviary::base
