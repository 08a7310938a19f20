#include "server/admin_probe.h"

#include <sys/resource.h>

#include <filesystem>
#include <string_view>

#include "admin/environment.h"

namespace aviary::server {
namespace {

int64_t OpenFdCount() {
  std::error_code ec;
  int64_t n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

int64_t MaxFdCount() {
  rlimit rl{};
  return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? static_cast<int64_t>(rl.rlim_cur) : -1;
}

// Bytes of the files in <dir>/version-2 whose names start with `prefix`.
int64_t FilesSize(const std::string& dir, std::string_view prefix) {
  std::error_code ec;
  int64_t total = 0;
  for (auto it = std::filesystem::directory_iterator(dir + "/version-2", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (it->path().filename().string().rfind(prefix, 0) != 0) continue;
    std::error_code size_ec;
    auto size = it->file_size(size_ec);
    if (!size_ec) total += static_cast<int64_t>(size);
  }
  return total;
}

}  // namespace

AdminProbe::AdminProbe(std::string data_dir, std::string data_log_dir, std::string full_version)
    : data_dir_(std::move(data_dir)), data_log_dir_(std::move(data_log_dir)), full_version_(std::move(full_version)) {}

const AdminProbe::Fds& AdminProbe::FdCounts(int64_t now_ms) {
  if (fd_.Stale(now_ms)) fd_.value = Fds{OpenFdCount(), MaxFdCount()};
  return fd_.value;
}

const AdminProbe::DirSizes& AdminProbe::Sizes(int64_t now_ms) {
  if (dirs_.Stale(now_ms)) dirs_.value = DirSizes{FilesSize(data_dir_, "snapshot."), FilesSize(data_log_dir_, "log.")};
  return dirs_.value;
}

const AdminProbe::Environment& AdminProbe::Env(int64_t now_ms) {
  if (env_.Stale(now_ms)) env_.value = admin::BuildEnvironment(full_version_);
  return env_.value;
}

}  // namespace aviary::server
