// Blocks of snapshot format 3 (docs/format/snapshot.md, "Format 3"): the
// records are cut into blocks of ~256 KiB, each stored raw or as one zstd
// frame behind an 18-byte header (tag, codec, sequence number, raw and
// stored sizes, CRC-32C of header and stored bytes), so that a reader can
// check and expand each block on its own at memory speed, on another
// thread than the one building the tree. Pure functions; the zstd contexts
// are per thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/limits.h"

namespace aviary::storage::snapblock {

enum class Codec : uint8_t { kNone = 0, kZstd = 1 };

inline constexpr char kTag = 'B';
inline constexpr size_t kHeaderBytes = 18;  // tag, codec, u32 seq, u32 raw, u32 stored, u32 crc
inline constexpr size_t kTargetRawBytes = 256 << 10;
// One block holds records up to kTargetRawBytes plus the record that crossed it.
inline constexpr uint32_t kMaxRawBytes = kMaxRecordBytes + kTargetRawBytes + 1024;
inline constexpr int kZstdLevel = 1;  // the snapshot child's core: fast, ~4x on znode records

struct Header {
  Codec codec = Codec::kNone;
  uint32_t seq = 0;
  uint32_t raw_bytes = 0;
  uint32_t stored_bytes = 0;
  uint32_t crc = 0;
};

// Appends block `seq` holding `raw` to *out. With kZstd the block is stored
// compressed unless that does not make it smaller (then raw, codec kNone).
void Seal(std::string_view raw, Codec codec, uint32_t seq, std::string* out);

// Parses the header at `p` (kHeaderBytes readable). false with *why on a bad
// tag, codec or size.
bool ParseHeader(const char* p, Header* h, std::string* why);
// The CRC over the header's first 14 bytes and the stored bytes matches.
bool CrcMatches(const char* header, const Header& h, const char* stored);
// Replaces *raw with the block's records (decompressing if need be); false
// with *why when the bytes do not expand to exactly raw_bytes.
bool Expand(const Header& h, const char* stored, std::string* raw, std::string* why);

}  // namespace aviary::storage::snapblock
