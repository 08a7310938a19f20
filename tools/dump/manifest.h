// aviary-dump: the backup manifest, a small text file BACKUPDIR/MANIFEST:
//   aviary-backup 1
//   snapshot_zxid 0x...      (-1 when the backup starts from an empty tree)
//   last_zxid 0x...          (the backup's state: every txn <= this)
//   file <name> <size> <crc32c hex>     (one line per file in version-2/)
// Pure data + text conversion; no I/O beyond Read/Write helpers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace aviary::dump {

struct ManifestFile {
  std::string name;  // base name inside version-2/
  int64_t size = 0;
  uint32_t crc = 0;
};

struct Manifest {
  int64_t snapshot_zxid = -1;
  int64_t last_zxid = 0;
  std::vector<ManifestFile> files;
};

std::string ManifestText(const Manifest& m);
// false + *error on malformed text (bounded: at most 1,000,000 file lines).
bool ParseManifest(const std::string& text, Manifest* m, std::string* error);

}  // namespace aviary::dump
