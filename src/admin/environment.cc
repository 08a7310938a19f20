#include "admin/environment.h"

#include <fmt/core.h>
#include <pwd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>

namespace aviary::admin {
namespace {

int64_t ResidentMb() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long size = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<int64_t>(resident) * sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

int64_t PagesMb(int name) {
  long pages = sysconf(name);
  if (pages < 0) return 0;
  return static_cast<int64_t>(pages) * sysconf(_SC_PAGESIZE) / (1024 * 1024);
}

}  // namespace

// "YYYY-MM-DD HH:MM" (UTC), fixed when CMake configured the build
// (CMakeLists.txt: SOURCE_DATE_EPOCH, else the last commit's date).
#ifndef AVIARY_BUILD_DATE
#define AVIARY_BUILD_DATE "1970-01-01 00:00"  // built without CMake's definition
#endif

std::string FullVersion() {
  return fmt::format("{}-aviary-{}, built on {} UTC", kZooKeeperCompatVersion, kAviaryVersion, AVIARY_BUILD_DATE);
}

std::vector<std::pair<std::string, std::string>> BuildEnvironment(const std::string& full_version) {
  std::vector<std::pair<std::string, std::string>> env;
  env.emplace_back("zookeeper.version", full_version);
  char host[256] = {0};
  env.emplace_back("host.name", gethostname(host, sizeof host - 1) == 0 ? std::string(host) : "<NA>");
  for (const char* key : {"java.version", "java.vendor", "java.home", "java.class.path", "java.library.path"}) {
    env.emplace_back(key, "<NA>");
  }
  env.emplace_back("java.io.tmpdir", "/tmp");
  env.emplace_back("java.compiler", "<NA>");
  struct utsname u {};
  bool have_uname = uname(&u) == 0;
  std::string arch = have_uname ? u.machine : "<NA>";
  if (arch == "x86_64") arch = "amd64";  // Java's os.arch spelling
  env.emplace_back("os.name", have_uname ? u.sysname : "<NA>");
  env.emplace_back("os.arch", arch);
  env.emplace_back("os.version", have_uname ? u.release : "<NA>");
  struct passwd pw {};
  struct passwd* found = nullptr;
  char pwbuf[4096];
  bool have_pw = getpwuid_r(getuid(), &pw, pwbuf, sizeof pwbuf, &found) == 0 && found != nullptr;
  env.emplace_back("user.name", have_pw ? pw.pw_name : "<NA>");
  env.emplace_back("user.home", have_pw ? pw.pw_dir : "<NA>");
  char cwd[4096];
  env.emplace_back("user.dir", getcwd(cwd, sizeof cwd) != nullptr ? std::string(cwd) : "<NA>");
  env.emplace_back("os.memory.free", fmt::format("{}MB", PagesMb(_SC_AVPHYS_PAGES)));
  env.emplace_back("os.memory.max", fmt::format("{}MB", PagesMb(_SC_PHYS_PAGES)));
  env.emplace_back("os.memory.total", fmt::format("{}MB", ResidentMb()));
  return env;
}

}  // namespace aviary::admin
