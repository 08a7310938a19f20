// An append-only text file with size-based rotation, as log4j's
// RollingFileAppender / logback's FixedWindowRollingPolicy: when a write
// would take the file past max_file_bytes, <path>.N-1 .. <path>.1 move up
// one (the oldest, <path>.N, is removed), <path> becomes <path>.1 and a new
// <path> is started. Reopen() reopens <path> (after logrotate moved it).
//
// Not thread-safe: one owner (the log sink under its lock, the audit
// writer thread). Errors are values; a failed write is reported, the file
// stays usable for the next one.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace aviary::base {

class RotatingFile {
 public:
  RotatingFile() = default;
  ~RotatingFile();
  RotatingFile(const RotatingFile&) = delete;
  RotatingFile& operator=(const RotatingFile&) = delete;

  // max_file_bytes 0: never rotates. max_backups 0: rotation truncates.
  bool Open(const std::string& path, int64_t max_file_bytes, int max_backups, std::string* error);
  // Appends `text` (whole lines), rotating first when it would not fit.
  bool Write(std::string_view text, std::string* error);
  bool Reopen(std::string* error);
  void Close();
  bool is_open() const { return fd_ >= 0; }
  int64_t size_bytes() const { return size_bytes_; }
  const std::string& path() const { return path_; }
  int64_t rotations() const { return rotations_; }

 private:
  bool Rotate(std::string* error);

  std::string path_;
  int fd_ = -1;
  int64_t size_bytes_ = 0;
  int64_t max_file_bytes_ = 0;
  int max_backups_ = 0;
  int64_t rotations_ = 0;
};

// The file name of backup `index` (1-based) of `path`: "<path>.<index>".
std::string BackupName(const std::string& path, int index);

}  // namespace aviary::base
