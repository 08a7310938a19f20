// Internal: the frame of a format-3 snapshot (docs/format/snapshot.md,
// "Format 3"): header with sessions and its CRC, trailer with counts and
// its CRC, around the blocks (snapshot_stream.h). A read-only mapping of a
// file for the readers. Pure functions apart from the mapping.
#pragma once

#include <cstddef>
#include <string>

#include "storage/snapshot.h"
#include "storage/snapshot_stream.h"

namespace aviary::storage {

struct SnapshotHeader {
  uint32_t version = 0;
  int64_t zxid = 0;
  std::vector<SessionRecord> sessions;
};

// Parses header, sessions and trailer of the format-3 file in data[0, size).
// false with *error naming the file and offset.
bool ParseV3Frame(const char* data, size_t size, const std::string& path, SnapshotHeader* header, SnapshotBody* body,
                  std::string* error);

// The whole file, mapped read-only (sequential advice). Unmapped on destruction.
class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  bool Map(const std::string& path, std::string* error);
  const char* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace aviary::storage
