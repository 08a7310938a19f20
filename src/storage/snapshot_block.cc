#include "storage/snapshot_block.h"

#include <zstd.h>

#include <cstring>
#include <memory>

#include "storage/bytes.h"
#include "storage/crc32c.h"

namespace aviary::storage::snapblock {
namespace {

constexpr size_t kCrcCoveredHeaderBytes = 14;

struct CctxFree {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

ZSTD_CCtx* Cctx() {
  thread_local std::unique_ptr<ZSTD_CCtx, CctxFree> c(ZSTD_createCCtx());
  return c.get();
}
ZSTD_DCtx* Dctx() {
  thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> d(ZSTD_createDCtx());
  return d.get();
}

void PutHeader(Codec codec, uint32_t seq, uint32_t raw, uint32_t stored, std::string* out) {
  out->push_back(kTag);
  out->push_back(static_cast<char>(codec));
  bytes::PutU32(out, seq);
  bytes::PutU32(out, raw);
  bytes::PutU32(out, stored);
}

}  // namespace

void Seal(std::string_view raw, Codec codec, uint32_t seq, std::string* out) {
  const size_t at = out->size();
  size_t stored = raw.size();
  if (codec == Codec::kZstd) {
    const size_t bound = ZSTD_compressBound(raw.size());
    out->resize(at + kHeaderBytes + bound);
    const size_t n =
        ZSTD_compressCCtx(Cctx(), out->data() + at + kHeaderBytes, bound, raw.data(), raw.size(), kZstdLevel);
    if (!ZSTD_isError(n) && n < raw.size()) {
      stored = n;
      out->resize(at + kHeaderBytes + n);  // the frame is already in place
    } else {
      codec = Codec::kNone;
    }
  }
  if (codec == Codec::kNone) {
    out->resize(at + kHeaderBytes);
    out->append(raw);
  }
  std::string head;
  PutHeader(codec, seq, static_cast<uint32_t>(raw.size()), static_cast<uint32_t>(stored), &head);
  char* h = out->data() + at;
  std::memcpy(h, head.data(), kCrcCoveredHeaderBytes);
  const uint32_t crc = Crc32c(Crc32c(0, h, kCrcCoveredHeaderBytes), h + kHeaderBytes, stored);
  bytes::SetU32(h + kCrcCoveredHeaderBytes, crc);
}

bool ParseHeader(const char* p, Header* h, std::string* why) {
  if (p[0] != kTag) {
    *why = "bad block tag";
    return false;
  }
  const auto codec = static_cast<uint8_t>(p[1]);
  if (codec > static_cast<uint8_t>(Codec::kZstd)) {
    *why = "unknown block codec " + std::to_string(codec);
    return false;
  }
  h->codec = static_cast<Codec>(codec);
  h->seq = bytes::GetU32(p + 2);
  h->raw_bytes = bytes::GetU32(p + 6);
  h->stored_bytes = bytes::GetU32(p + 10);
  h->crc = bytes::GetU32(p + 14);
  if (h->raw_bytes > kMaxRawBytes || (h->codec == Codec::kNone && h->stored_bytes != h->raw_bytes)) {
    *why = "block size out of bounds (raw " + std::to_string(h->raw_bytes) + ", stored " +
           std::to_string(h->stored_bytes) + ")";
    return false;
  }
  return true;
}

bool CrcMatches(const char* header, const Header& h, const char* stored) {
  return Crc32c(Crc32c(0, header, kCrcCoveredHeaderBytes), stored, h.stored_bytes) == h.crc;
}

bool Expand(const Header& h, const char* stored, std::string* raw, std::string* why) {
  if (h.codec == Codec::kNone) {
    raw->assign(stored, h.stored_bytes);
    return true;
  }
  const unsigned long long size = ZSTD_getFrameContentSize(stored, h.stored_bytes);
  if (size != h.raw_bytes) {
    *why = "zstd frame size does not match the block header";
    return false;
  }
  raw->resize(h.raw_bytes);
  const size_t n = ZSTD_decompressDCtx(Dctx(), raw->data(), raw->size(), stored, h.stored_bytes);
  if (ZSTD_isError(n) || n != h.raw_bytes) {
    *why = std::string("zstd: ") + (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short block");
    return false;
  }
  return true;
}

}  // namespace aviary::storage::snapblock
