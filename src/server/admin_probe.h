// AdminProbe: the facts the four-letter words report that cost system calls
// - open file descriptors (/proc/self/fd), the bytes of snapshot and log
// files (a directory listing with a stat per file), and the envi list
// (uname, the passwd entry, memory). Each is computed on first use and then
// served from a cache refreshed at most once per kRefreshMs, so a flood of
// four-letter words costs the core thread at most one scan of each kind per
// second, however many words arrive.
//
// Owns: the cached values and counters of how often each was computed (for
// tests and diagnostics). Time is an argument (steady clock, ms).
// Thread use: the core thread only.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace aviary::server {

class AdminProbe {
 public:
  static constexpr int64_t kRefreshMs = 1000;

  // `data_dir` / `data_log_dir`: absolute; sizes count <dir>/version-2 files
  // named snapshot.* and log.* respectively.
  AdminProbe(std::string data_dir, std::string data_log_dir, std::string full_version);

  struct Fds {
    int64_t open = 0;
    int64_t max = 0;
  };
  struct DirSizes {
    int64_t data_bytes = 0;  // snapshot files
    int64_t log_bytes = 0;   // transaction log files
  };
  using Environment = std::vector<std::pair<std::string, std::string>>;

  const Fds& FdCounts(int64_t now_ms);
  const DirSizes& Sizes(int64_t now_ms);
  const Environment& Env(int64_t now_ms);

  // How many times each part was actually computed.
  int64_t fd_scans() const { return fd_.computed; }
  int64_t dir_scans() const { return dirs_.computed; }
  int64_t env_builds() const { return env_.computed; }

 private:
  template <typename T>
  struct Cached {
    T value{};
    int64_t at_ms = 0;
    int64_t computed = 0;
    // True when the value must be (re)computed at now_ms; then counts it.
    bool Stale(int64_t now_ms) {
      if (computed > 0 && now_ms - at_ms < kRefreshMs && now_ms >= at_ms) return false;
      at_ms = now_ms;
      ++computed;
      return true;
    }
  };

  std::string data_dir_;
  std::string data_log_dir_;
  std::string full_version_;
  Cached<Fds> fd_;
  Cached<DirSizes> dirs_;
  Cached<Environment> env_;
};

}  // namespace aviary::server
