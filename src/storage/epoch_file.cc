#include "storage/epoch_file.h"

#include <fmt/core.h>

#include <limits>
#include <string_view>

#include "storage/layout.h"

namespace aviary::storage {
namespace {

constexpr size_t kMaxEpochFileBytes = 4096;

// Long.parseLong of the first line, without negatives.
bool ParseEpoch(std::string_view text, int64_t* out) {
  text = text.substr(0, text.find_first_of("\r\n"));
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty() || text.size() > 19) return false;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    if (v > (std::numeric_limits<int64_t>::max() - (c - '0')) / 10) return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Reads one epoch file; a missing one gets `fallback`, written durably.
bool ReadOrCreate(const std::string& data_dir, const std::string& name, int64_t fallback, int64_t* out, Epochs* epochs,
                  std::string* error) {
  const std::string path = EpochFilePath(data_dir, name);
  bool missing = false;
  if (ReadEpochFile(path, out, &missing, error)) return true;
  if (!missing) return false;
  *out = fallback;
  epochs->notes.push_back(fmt::format("{} not found; created with the epoch of the last zxid, {}", path, fallback));
  return WriteEpochFile(path, fallback, error);
}

std::string Hex(int64_t v) { return fmt::format("{:#x}", v); }

}  // namespace

std::string EpochFilePath(const std::string& data_dir, const std::string& name) {
  return VersionDir(data_dir) + "/" + name;
}

bool ReadEpochFile(const std::string& path, int64_t* epoch, bool* missing, std::string* error) {
  std::string text;
  if (!ReadSmallFile(path, kMaxEpochFileBytes, &text, missing, error)) return false;
  if (!ParseEpoch(text, epoch)) {
    const std::string_view line = std::string_view(text).substr(0, text.find_first_of("\r\n"));
    *error = fmt::format("{}: found '{}', expected an epoch (a non-negative decimal number)", path, line.substr(0, 40));
    return false;
  }
  return true;
}

bool WriteEpochFile(const std::string& path, int64_t epoch, std::string* error) {
  if (epoch < 0) {
    *error = fmt::format("{}: refusing to write a negative epoch {}", path, epoch);
    return false;
  }
  return WriteFileAtomic(path, std::to_string(epoch), error);
}

bool LoadEpochs(const std::string& data_dir, int64_t last_zxid, Epochs* out, std::string* error) {
  *out = Epochs{};
  if (!EnsureDir(VersionDir(data_dir), error)) return false;
  const int64_t zxid_epoch = last_zxid >> 32;
  if (!ReadOrCreate(data_dir, kCurrentEpochFile, zxid_epoch, &out->current, out, error)) return false;
  if (zxid_epoch > out->current) {
    const std::string tmp = EpochFilePath(data_dir, kCurrentEpochFile) + ".tmp";
    bool missing = false;
    int64_t from_tmp = 0;
    if (!ReadEpochFile(tmp, &from_tmp, &missing, error)) {
      if (!missing) return false;
      *error = fmt::format("the current epoch, {}, is older than the last zxid, {}", Hex(out->current), Hex(last_zxid));
      return false;
    }
    out->notes.push_back(fmt::format("{} found; setting the current epoch to {}", tmp, from_tmp));
    if (!StoreCurrentEpoch(data_dir, from_tmp, error)) return false;
    out->current = from_tmp;
  }
  if (!ReadOrCreate(data_dir, kAcceptedEpochFile, zxid_epoch, &out->accepted, out, error)) return false;
  if (out->accepted < out->current) {
    *error = fmt::format("the accepted epoch, {}, is less than the current epoch, {}", Hex(out->accepted),
                         Hex(out->current));
    return false;
  }
  return true;
}

bool StoreAcceptedEpoch(const std::string& data_dir, int64_t epoch, std::string* error) {
  return EnsureDir(VersionDir(data_dir), error) &&
         WriteEpochFile(EpochFilePath(data_dir, kAcceptedEpochFile), epoch, error);
}

bool StoreCurrentEpoch(const std::string& data_dir, int64_t epoch, std::string* error) {
  return EnsureDir(VersionDir(data_dir), error) &&
         WriteEpochFile(EpochFilePath(data_dir, kCurrentEpochFile), epoch, error);
}

}  // namespace aviary::storage
