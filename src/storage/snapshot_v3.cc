#include "storage/snapshot_v3.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/layout.h"

namespace aviary::storage {

bool ParseV3Frame(const char* d, size_t size, const std::string& path, SnapshotHeader* h, SnapshotBody* body,
                  std::string* error) {
  if (size < kSnapHeaderBytes + 4 + kSnapTrailerV3Bytes) {
    *error = path + ": truncated snapshot (" + std::to_string(size) + " bytes)";
    return false;
  }
  h->version = bytes::GetU32(d + 8);
  h->zxid = static_cast<int64_t>(bytes::GetU64(d + 16));
  const uint32_t sessions = bytes::GetU32(d + 24);
  const size_t head = kSnapHeaderBytes + size_t{sessions} * kSnapSessionBytes;
  if (uint64_t{sessions} * kSnapSessionBytes > size - kSnapHeaderBytes - 4 - kSnapTrailerV3Bytes) {
    *error = path + ": session count " + std::to_string(sessions) + " exceeds the file at offset 24";
    return false;
  }
  if (Crc32c(0, d, head) != bytes::GetU32(d + head)) {
    *error = path + ": header checksum mismatch at offset " + std::to_string(head);
    return false;
  }
  h->sessions.resize(sessions);
  for (uint32_t i = 0; i < sessions; ++i) {
    const char* p = d + kSnapHeaderBytes + size_t{i} * kSnapSessionBytes;
    h->sessions[i] = {static_cast<int64_t>(bytes::GetU64(p)), static_cast<int32_t>(bytes::GetU32(p + 8))};
  }
  const size_t t = size - kSnapTrailerV3Bytes;
  if (d[t] != kSnapEndTag || std::memcmp(d + t + 1, kSnapTrailerMagic, 8) != 0) {
    *error = path + ": missing trailer (incomplete snapshot) at offset " + std::to_string(t);
    return false;
  }
  if (Crc32c(0, d + t, kSnapTrailerV3Bytes - 4) != bytes::GetU32(d + size - 4)) {
    *error = path + ": trailer checksum mismatch at offset " + std::to_string(size - 4);
    return false;
  }
  body->data = d;
  body->begin = head + 4;
  body->end = t;
  body->nodes = bytes::GetU64(d + t + 9);
  body->blocks = bytes::GetU32(d + t + 17);
  body->path = path;
  return true;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) munmap(const_cast<char*>(data_), size_);
}

bool MappedFile::Map(const std::string& path, std::string* error) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = ErrnoText("open", path, errno);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    *error = ErrnoText("stat", path, errno);
    close(fd);
    return false;
  }
  size_ = static_cast<size_t>(st.st_size);
  void* p = size_ == 0 ? nullptr : mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  close(fd);
  if (p == MAP_FAILED) {
    *error = ErrnoText("mmap", path, errno);
    size_ = 0;
    return false;
  }
  data_ = static_cast<const char*>(p);
  if (data_ != nullptr) madvise(p, size_, MADV_SEQUENTIAL);
  return true;
}

}  // namespace aviary::storage
