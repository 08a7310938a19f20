// Leveled logging, thread-safe (one write(2) per line), to stderr by default
// or to a file with size-based rotation (rotating_file.h).
// Usage: AV_LOG(kInfo, "session {:#x} expired", id);
//
// Each call site belongs to a module: the folder under src/ (or tools/) of
// its source file ("server", "peer", "zab", ...), found at compile time.
// Levels are per module (SetModuleLevel) over a default (SetLevel); a call
// below its module's level costs one relaxed atomic load.
//
// Threads: every function may be called from any thread. Configure and
// Reopen take the sink's lock; the level functions are lock-free.
#pragma once

#include <fmt/core.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace aviary::log {

enum Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

// The modules: index 0 is "other" (a file outside src/ and tools/).
inline constexpr std::string_view kModules[] = {
    "other",  "base",  "proto",   "tree", "txn",      "session",     "watch", "storage", "tls",
    "config", "net",   "admin",   "sasl", "zkformat", "quorum",      "zab",   "peer",    "server",
    "audit",  "tools", "metrics", "cli",  "client",   "adminserver", "quota"};
inline constexpr int kModuleCount = sizeof(kModules) / sizeof(kModules[0]);

// The module of a source file path: the folder after the last "src/" or
// "tools/" in it, when that folder is one of kModules; else 0.
constexpr int ModuleOf(std::string_view file) {
  size_t at = std::string_view::npos;
  size_t skip = 0;
  for (std::string_view root : {std::string_view("src/"), std::string_view("tools/")}) {
    size_t p = file.rfind(root);
    if (p != std::string_view::npos && (at == std::string_view::npos || p > at)) {
      at = p;
      skip = root.size();
    }
  }
  if (at == std::string_view::npos) return 0;
  std::string_view rest = file.substr(at + skip);
  std::string_view folder = skip == 6 ? std::string_view("tools") : rest.substr(0, rest.find('/'));
  for (int i = 1; i < kModuleCount; ++i) {
    if (kModules[i] == folder) return i;
  }
  return 0;
}

// The default level: every module's level becomes `level`.
void SetLevel(Level level);
Level GetLevel();
// One module's level (by name, as in kModules); false for an unknown module.
bool SetModuleLevel(std::string_view module, Level level);
Level ModuleLevel(int module);
// "info" | "debug" | "warn" | "warning" | "error" (any case).
bool ParseLevel(std::string_view text, Level* out);
const char* LevelName(Level level);
// A level spec: "<level>[,<module>=<level>]..." (e.g. "info,peer=debug").
// Applied whole (default first, then modules) or not at all.
bool ApplyLevelSpec(std::string_view spec, std::string* error);
// Checks a spec without applying it.
bool ValidLevelSpec(std::string_view spec, std::string* error);
// "info,peer=debug": the default and every module that differs from it.
std::string CurrentLevelSpec();

enum class Format : uint8_t {
  kPlain,    // "2026-12-01T00:00:00.000Z INFO [server] message"
  kJournal,  // "<6>[server] message": sd-daemon priority prefix, no time (journald adds it)
};

struct SinkOptions {
  std::string path;                           // empty: stderr
  int64_t max_file_bytes = 10 * 1024 * 1024;  // rotate past this (0: never; logrotate + Reopen)
  int max_backups = 10;                       // <path>.1 .. <path>.N kept
  Format format = Format::kPlain;
};
// Where lines go from now on. False (and stderr kept) when the file cannot
// be opened; *error says why.
bool Configure(const SinkOptions& options, std::string* error);
// Reopens the log file (after an external rotation); no-op on stderr.
void Reopen();

void Write(Level level, int module, std::string_view msg);
inline void Write(Level level, std::string_view msg) { Write(level, 0, msg); }

}  // namespace aviary::log

#define AV_LOG(level, ...)                                                                  \
  do {                                                                                      \
    constexpr int av_log_module_ = ::aviary::log::ModuleOf(__FILE__);                       \
    if (::aviary::log::level >= ::aviary::log::ModuleLevel(av_log_module_))                 \
      ::aviary::log::Write(::aviary::log::level, av_log_module_, fmt::format(__VA_ARGS__)); \
  } while (0)
