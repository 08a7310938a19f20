// Jute primitive encoding: a bounds-checked Reader over a byte view and a
// Writer appending to a std::string. Both are plain values used by one thread.
//
// Reader invariants: it never reads past the end of its input. The first
// failure (overrun, negative or oversized length, vector count that cannot
// fit in the remaining bytes) sets a sticky flag; every later read returns
// a zero value and ok() stays false. Callers check ok() once at the end.
//
// Encoding: int32/int64 big-endian, bool one byte (any non-zero reads as
// true, written as 1), buffer/ustring int32 length + bytes (-1 = null, read
// as empty; written lengths are never -1), vector int32 count + elements
// (-1 = null, read as empty).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace aviary::proto::jute {

class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // Marks the input malformed (sticky).
  void Fail() {
    ok_ = false;
    p_ = end_;
  }

  int32_t ReadInt32() {
    if (!Need(4)) return 0;
    uint32_t v = Byte(0) << 24 | Byte(1) << 16 | Byte(2) << 8 | Byte(3);
    p_ += 4;
    return static_cast<int32_t>(v);
  }
  int64_t ReadInt64() {
    if (!Need(8)) return 0;
    uint64_t hi = static_cast<uint32_t>(ReadInt32());
    uint64_t lo = static_cast<uint32_t>(ReadInt32());
    return static_cast<int64_t>(hi << 32 | lo);
  }
  bool ReadBool() {
    if (!Need(1)) return false;
    return *p_++ != 0;
  }
  // buffer / ustring: a view into the input, valid while the input lives.
  // Null (-1) reads as an empty view.
  std::string_view ReadBufferView();
  std::string ReadBuffer() { return std::string(ReadBufferView()); }
  // As ReadBuffer, and tells whether the buffer was null (-1).
  std::string ReadBuffer(bool* is_null) {
    is_null_probe_ = false;
    std::string v(ReadBufferView());
    *is_null = is_null_probe_;
    return v;
  }
  // As ReadBuffer(is_null), assigned into *out (its storage reused).
  void ReadBufferInto(std::string* out, bool* is_null) {
    is_null_probe_ = false;
    out->assign(ReadBufferView());
    *is_null = is_null_probe_;
  }
  std::string ReadString() { return std::string(ReadBufferView()); }
  // The next n bytes as they are (fails if fewer remain).
  std::string_view ReadRaw(size_t n) {
    if (!Need(n)) return {};
    std::string_view v(p_, n);
    p_ += n;
    return v;
  }
  // Reads a vector count. -1 (null) reads as 0. Fails when the count is
  // negative or when count * min_elem_bytes exceeds the remaining bytes, so
  // the result is always safe to reserve().
  int32_t ReadVectorCount(size_t min_elem_bytes);

 private:
  bool is_null_probe_ = false;
  bool Need(size_t n) {
    if (remaining() < n) {
      Fail();
      return false;
    }
    return true;
  }
  uint32_t Byte(int i) const { return static_cast<uint8_t>(p_[i]); }

  const char* p_;
  const char* end_;
  bool ok_ = true;
};

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}

  // One append per value (the encoders' hot path: a reply's Stat is 11
  // values; a call to std::string::append each is most of its cost).
  void WriteInt32(int32_t v) {
    char b[4];
    PutInt32(b, v);
    out_->append(b, 4);
  }
  void WriteInt64(int64_t v) {
    char b[8];
    PutInt64(b, v);
    out_->append(b, 8);
  }
  // Big-endian stores into raw bytes, for encoders that fill a block of
  // known size at once.
  static void PutInt32(char* p, int32_t v) {
    const uint32_t u = static_cast<uint32_t>(v);
    p[0] = static_cast<char>(u >> 24);
    p[1] = static_cast<char>(u >> 16);
    p[2] = static_cast<char>(u >> 8);
    p[3] = static_cast<char>(u);
  }
  static void PutInt64(char* p, int64_t v) {
    const uint64_t u = static_cast<uint64_t>(v);
    PutInt32(p, static_cast<int32_t>(u >> 32));
    PutInt32(p + 4, static_cast<int32_t>(u & 0xffffffffu));
  }
  // Appends `n` bytes written by `fill(char*)` (n known up front): one
  // capacity check for a whole fixed-size record.
  template <typename Fill>
  void WriteBlock(size_t n, Fill&& fill) {
    const size_t at = out_->size();
    out_->resize(at + n);
    fill(out_->data() + at);
  }
  void WriteBool(bool v) { out_->push_back(v ? 1 : 0); }
  void WriteNullBuffer() { WriteInt32(-1); }
  void WriteBuffer(std::string_view b, bool is_null) {
    if (is_null) {
      WriteNullBuffer();
    } else {
      WriteBuffer(b);
    }
  }
  void WriteBuffer(std::string_view b) {
    WriteInt32(static_cast<int32_t>(b.size()));
    out_->append(b);
  }
  void WriteString(std::string_view s) { WriteBuffer(s); }
  void WriteVectorCount(size_t n) { WriteInt32(static_cast<int32_t>(n)); }

  // Frame support: BeginFrame reserves the int32 length prefix and returns
  // its offset; EndFrame patches it with the number of bytes written since.
  size_t BeginFrame() {
    size_t at = out_->size();
    out_->append(4, '\0');
    return at;
  }
  void EndFrame(size_t at);

 private:
  std::string* out_;
};

}  // namespace aviary::proto::jute
