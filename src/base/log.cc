#include "base/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <mutex>
#include <string>
#include <vector>

#include "base/rotating_file.h"

namespace aviary::log {
namespace {

std::atomic<int> g_default{kInfo};
// Per module, stored as (level ^ kInfo) so that the zero-initialised array
// (ready before any static constructor logs) means kInfo.
std::atomic<int> g_levels[kModuleCount] = {};
void StoreModule(int module, Level level) { g_levels[module].store(level ^ kInfo, std::memory_order_relaxed); }
constexpr const char* kNames[] = {"DEBUG", "INFO", "WARN", "ERROR"};
constexpr const char* kJournalPrefix[] = {"<7>", "<6>", "<4>", "<3>"};  // sd-daemon(3) priorities

struct Sink {
  std::mutex mu;
  SinkOptions options;
  base::RotatingFile file;
  std::atomic<bool> to_file{false};
  std::atomic<Format> format{Format::kPlain};
};
Sink& TheSink() {
  static Sink* sink = new Sink();  // never destroyed: threads may log during exit
  return *sink;
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  int ms =
      static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char ts[32];
  std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:03d}Z", ts, ms);
}

int ModuleIndex(std::string_view name) {
  for (int i = 0; i < kModuleCount; ++i) {
    if (kModules[i] == name) return i;
  }
  return -1;
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses a spec into (module index or -1 for the default, level) pairs.
bool ParseSpec(std::string_view spec, std::vector<std::pair<int, Level>>* out, std::string* error) {
  bool have_default = false;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = TrimSpaces(spec.substr(0, comma));
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    Level level = kInfo;
    std::string_view level_text = eq == std::string_view::npos ? item : TrimSpaces(item.substr(eq + 1));
    if (!ParseLevel(level_text, &level)) {
      *error = fmt::format("unknown log level '{}' (debug, info, warn, error)", level_text);
      return false;
    }
    int module = -1;
    if (eq != std::string_view::npos) {
      std::string_view name = TrimSpaces(item.substr(0, eq));
      module = ModuleIndex(name);
      if (module < 0) {
        *error = fmt::format("unknown log module '{}'", name);
        return false;
      }
    } else if (have_default) {
      *error = "more than one default level";
      return false;
    } else {
      have_default = true;
    }
    out->emplace_back(module, level);
  }
  return true;
}

}  // namespace

void SetLevel(Level level) {
  g_default.store(level, std::memory_order_relaxed);
  for (int i = 0; i < kModuleCount; ++i) StoreModule(i, level);
}

Level GetLevel() { return static_cast<Level>(g_default.load(std::memory_order_relaxed)); }

bool SetModuleLevel(std::string_view module, Level level) {
  int i = ModuleIndex(module);
  if (i < 0) return false;
  StoreModule(i, level);
  return true;
}

Level ModuleLevel(int module) {
  if (module < 0 || module >= kModuleCount) module = 0;
  return static_cast<Level>(g_levels[module].load(std::memory_order_relaxed) ^ kInfo);
}

bool ParseLevel(std::string_view text, Level* out) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower == "debug" || lower == "trace") {
    *out = kDebug;
  } else if (lower == "info") {
    *out = kInfo;
  } else if (lower == "warn" || lower == "warning") {
    *out = kWarn;
  } else if (lower == "error") {
    *out = kError;
  } else {
    return false;
  }
  return true;
}

const char* LevelName(Level level) { return kNames[level]; }

bool ValidLevelSpec(std::string_view spec, std::string* error) {
  std::vector<std::pair<int, Level>> items;
  return ParseSpec(spec, &items, error);
}

bool ApplyLevelSpec(std::string_view spec, std::string* error) {
  std::vector<std::pair<int, Level>> items;
  if (!ParseSpec(spec, &items, error)) return false;
  for (const auto& [module, level] : items) {
    if (module < 0) SetLevel(level);
  }
  for (const auto& [module, level] : items) {
    if (module >= 0) StoreModule(module, level);
  }
  return true;
}

std::string CurrentLevelSpec() {
  const Level def = GetLevel();
  std::string spec = kNames[def];
  for (char& c : spec) c = static_cast<char>(c - 'A' + 'a');
  for (int i = 0; i < kModuleCount; ++i) {
    Level l = ModuleLevel(i);
    if (l == def) continue;
    std::string name = kNames[l];
    for (char& c : name) c = static_cast<char>(c - 'A' + 'a');
    spec += fmt::format(",{}={}", kModules[i], name);
  }
  return spec;
}

bool Configure(const SinkOptions& options, std::string* error) {
  Sink& s = TheSink();
  std::lock_guard<std::mutex> lock(s.mu);
  s.format = options.format;
  if (options.path.empty()) {
    s.file.Close();
    s.to_file = false;
    return true;
  }
  if (!s.file.Open(options.path, options.max_file_bytes, options.max_backups, error)) {
    s.to_file = false;
    return false;
  }
  s.options = options;
  s.to_file = true;
  return true;
}

void Reopen() {
  Sink& s = TheSink();
  std::lock_guard<std::mutex> lock(s.mu);
  if (!s.to_file) return;
  std::string error;
  if (!s.file.Reopen(&error)) {
    std::string line = fmt::format("{} ERROR [base] log file: {}\n", Timestamp(), error);
    ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
    (void)n;
  }
}

void Write(Level level, int module, std::string_view msg) {
  if (module < 0 || module >= kModuleCount) module = 0;
  Sink& s = TheSink();
  const Format format = s.format.load(std::memory_order_relaxed);
  std::string line = format == Format::kJournal
                         ? fmt::format("{}[{}] {}\n", kJournalPrefix[level], kModules[module], msg)
                         : fmt::format("{} {} [{}] {}\n", Timestamp(), kNames[level], kModules[module], msg);
  if (s.to_file) {
    std::lock_guard<std::mutex> lock(s.mu);
    std::string error;
    if (s.to_file && s.file.Write(line, &error)) return;
  }
  ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  (void)n;
}

}  // namespace aviary::log
