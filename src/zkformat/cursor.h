// A jute reader for streamed input (a SNAP body arriving over a socket, or
// a file read whole) that tells "need more bytes" from "malformed": every
// length is checked against a caller's bound before it is compared with
// the bytes at hand. Reads are big-endian as jute's. Plain value, one
// thread. After the first shortfall or failure every read returns zero and
// status() stays put.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace aviary::zkformat {

class Cursor {
 public:
  enum class Status { kOk, kNeedMore, kBad };

  explicit Cursor(std::string_view in) : in_(in) {}

  Status status() const { return status_; }
  bool ok() const { return status_ == Status::kOk; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return in_.size() - pos_; }
  void Bad() { status_ = Status::kBad; }

  int32_t I32() { return static_cast<int32_t>(Take(4)); }
  int64_t I64() { return static_cast<int64_t>(Take(8)); }
  uint8_t U8() { return static_cast<uint8_t>(Take(1)); }
  void Skip(size_t n) {
    if (Have(n)) pos_ += n;
  }
  // jute buffer/ustring with length <= max_bytes; -1 (null) reads as empty
  // with *is_null set (when given). A length < -1 or > max_bytes is bad.
  std::string_view Buf(size_t max_bytes, bool* is_null = nullptr) {
    int32_t len = I32();
    if (is_null != nullptr) *is_null = ok() && len == -1;
    if (!ok() || len == -1) return {};
    if (len < 0 || static_cast<size_t>(len) > max_bytes) {
      status_ = Status::kBad;
      return {};
    }
    if (!Have(static_cast<size_t>(len))) return {};
    std::string_view v = in_.substr(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return v;
  }

 private:
  bool Have(size_t n) {
    if (!ok()) return false;
    if (remaining() < n) {
      status_ = Status::kNeedMore;
      return false;
    }
    return true;
  }
  uint64_t Take(int n) {
    if (!Have(static_cast<size_t>(n))) return 0;
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | static_cast<uint8_t>(in_[pos_ + static_cast<size_t>(i)]);
    pos_ += static_cast<size_t>(n);
    return v;
  }

  std::string_view in_;
  size_t pos_ = 0;
  Status status_ = Status::kOk;
};

}  // namespace aviary::zkformat
