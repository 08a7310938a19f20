#include "server/session_secret.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "base/log.h"

namespace aviary::server {

namespace {
bool ParseHex(const std::string& s, uint64_t* out) {
  if (s.size() != 16) return false;
  uint64_t v = 0;
  for (char ch : s) {
    int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  *out = v;
  return true;
}
}  // namespace

bool LoadOrCreateSessionSecret(const std::string& data_dir, uint64_t* secret, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) {
    *error = "cannot create dataDir " + data_dir + ": " + ec.message();
    return false;
  }
  const std::string path = data_dir + "/session.secret";
  std::ifstream in(path);
  if (in) {
    std::string line;
    std::getline(in, line);
    if (ParseHex(line, secret)) return true;
    *error = path + " is malformed (expected 16 lowercase hex digits)";
    return false;
  }
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  std::string text = fmt::format("{:016x}\n", v);
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool ok = fd >= 0 && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  if (fd >= 0) ::close(fd);
  ok = ok && ::rename(tmp.c_str(), path.c_str()) == 0;
  if (ok) {
    int dfd = ::open(data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  if (!ok) {
    *error = "cannot write " + path + ": " + std::strerror(errno);
    return false;
  }
  *secret = v;
  return true;
}

}  // namespace aviary::server
