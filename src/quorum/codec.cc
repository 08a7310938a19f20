// QuorumPacket codec and the bounded stream parser (codec.h).
#include "quorum/codec.h"

#include "proto/jute.h"

namespace aviary::quorum {
namespace {

// A cursor over a possibly incomplete packet: each step either advances,
// reports that more bytes are needed, or that the input is malformed.
class Scan {
 public:
  Scan(std::string_view in, size_t max_len) : in_(in), max_len_(max_len) {}
  ParseStatus status() const { return status_; }
  size_t pos() const { return pos_; }

  int32_t Int32() {
    if (!Need(4)) return 0;
    auto b = [&](size_t i) { return static_cast<uint32_t>(static_cast<uint8_t>(in_[pos_ + i])); };
    uint32_t v = b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
    pos_ += 4;
    return static_cast<int32_t>(v);
  }
  int64_t Int64() {
    uint64_t hi = static_cast<uint32_t>(Int32());
    uint64_t lo = static_cast<uint32_t>(Int32());
    return static_cast<int64_t>(hi << 32 | lo);
  }
  // A jute buffer/ustring; *is_null for -1. Lengths are checked before the
  // bytes are awaited, so a hostile length fails at once.
  std::string_view Buffer(bool* is_null) {
    *is_null = false;
    int32_t len = Int32();
    if (status_ != ParseStatus::kOk) return {};
    if (len == -1) {
      *is_null = true;
      return {};
    }
    if (len < 0 || static_cast<size_t>(len) > max_len_) {
      status_ = ParseStatus::kBad;
      return {};
    }
    if (!Need(static_cast<size_t>(len))) return {};
    std::string_view v = in_.substr(pos_, static_cast<size_t>(len));
    pos_ += static_cast<size_t>(len);
    return v;
  }
  void Bad() { status_ = ParseStatus::kBad; }

 private:
  bool Need(size_t n) {
    if (status_ != ParseStatus::kOk) return false;
    if (in_.size() - pos_ < n) {
      status_ = ParseStatus::kNeedMore;
      return false;
    }
    return true;
  }
  std::string_view in_;
  size_t max_len_;
  size_t pos_ = 0;
  ParseStatus status_ = ParseStatus::kOk;
};

void ScanAuthInfo(Scan& s, std::vector<proto::Id>* out) {
  int32_t count = s.Int32();
  if (s.status() != ParseStatus::kOk || count == -1) return;
  if (count < 0 || static_cast<size_t>(count) > kMaxAuthInfoCount) {
    s.Bad();
    return;
  }
  for (int32_t i = 0; i < count && s.status() == ParseStatus::kOk; ++i) {
    bool null_scheme = false, null_id = false;
    std::string_view scheme = s.Buffer(&null_scheme);
    std::string_view id = s.Buffer(&null_id);
    if (s.status() == ParseStatus::kOk) out->push_back(proto::Id{std::string(scheme), std::string(id)});
  }
}

}  // namespace

void EncodePacket(const QuorumPacket& p, std::string* out) {
  proto::jute::Writer w(out);
  w.WriteInt32(static_cast<int32_t>(p.type));
  w.WriteInt64(p.zxid);
  w.WriteBuffer(p.data, p.data_null);
  // Java's QuorumPacket(type, zxid, data, null) writes a null vector (-1);
  // readers take null and empty alike, so empty is written as null.
  if (p.authinfo.empty()) {
    w.WriteInt32(-1);
    return;
  }
  w.WriteVectorCount(p.authinfo.size());
  for (const proto::Id& id : p.authinfo) {
    w.WriteString(id.scheme);
    w.WriteString(id.id);
  }
}

std::string EncodePacket(const QuorumPacket& p) {
  std::string out;
  EncodePacket(p, &out);
  return out;
}

ParseStatus DecodePacket(std::string_view in, QuorumPacket* out, size_t* consumed, size_t max_buffer_bytes) {
  Scan s(in, max_buffer_bytes);
  QuorumPacket p;
  p.type = static_cast<PacketType>(s.Int32());
  p.zxid = s.Int64();
  std::string_view data = s.Buffer(&p.data_null);
  if (s.status() == ParseStatus::kOk) p.data.assign(data);
  ScanAuthInfo(s, &p.authinfo);
  if (s.status() != ParseStatus::kOk) return s.status();
  *out = std::move(p);
  *consumed = s.pos();
  return ParseStatus::kOk;
}

void PacketStreamParser::Feed(std::string_view bytes) {
  if (bad_) return;
  Compact();
  buf_.append(bytes);
}

void PacketStreamParser::BeginRaw(std::unique_ptr<RawSection> section) { raw_ = std::move(section); }

ParseStatus PacketStreamParser::Next(Item* item) {
  if (bad_) return ParseStatus::kBad;
  std::string_view rest(buf_.data() + pos_, buf_.size() - pos_);
  size_t used = 0;
  if (raw_) {
    ParseStatus st = raw_->Feed(rest, &used);
    if (used > rest.size()) st = ParseStatus::kBad;
    if (st == ParseStatus::kBad) {
      bad_ = true;
      return st;
    }
    pos_ += used;
    if (st == ParseStatus::kNeedMore) return st;
    item->kind = Item::Kind::kRawDone;
    item->raw = std::move(raw_);
    return ParseStatus::kOk;
  }
  ParseStatus st = DecodePacket(rest, &item->packet, &used, max_buffer_bytes_);
  if (st == ParseStatus::kBad) bad_ = true;
  if (st != ParseStatus::kOk) return st;
  item->kind = Item::Kind::kPacket;
  item->raw.reset();
  pos_ += used;
  return st;
}

void PacketStreamParser::Compact() {
  if (pos_ == 0) return;
  buf_.erase(0, pos_);
  pos_ = 0;
}

}  // namespace aviary::quorum
