#include "proto/jute.h"

namespace aviary::proto::jute {

std::string_view Reader::ReadBufferView() {
  int32_t len = ReadInt32();
  if (!ok_) return {};
  if (len == -1) {
    is_null_probe_ = true;
    return {};
  }
  if (len < 0 || static_cast<size_t>(len) > remaining()) {
    Fail();
    return {};
  }
  std::string_view v(p_, static_cast<size_t>(len));
  p_ += len;
  return v;
}

int32_t Reader::ReadVectorCount(size_t min_elem_bytes) {
  int32_t n = ReadInt32();
  if (!ok_ || n == -1) return 0;
  if (n < 0 || static_cast<size_t>(n) > remaining() / (min_elem_bytes == 0 ? 1 : min_elem_bytes)) {
    Fail();
    return 0;
  }
  return n;
}

void Writer::EndFrame(size_t at) {
  uint32_t len = static_cast<uint32_t>(out_->size() - at - 4);
  (*out_)[at] = static_cast<char>(len >> 24);
  (*out_)[at + 1] = static_cast<char>(len >> 16);
  (*out_)[at + 2] = static_cast<char>(len >> 8);
  (*out_)[at + 3] = static_cast<char>(len);
}

}  // namespace aviary::proto::jute
