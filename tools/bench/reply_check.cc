#include "reply_check.h"

namespace aviary::bench {

namespace {

using proto::OpCode;

constexpr size_t kStatBytes = 68;

class WireReader {
 public:
  explicit WireReader(std::string_view s) : s_(s) {}
  int64_t Int(size_t n) {
    if (!ok_ || s_.size() - off_ < n) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v = (v << 8) | static_cast<unsigned char>(s_[off_ + i]);
    off_ += n;
    return n == 4 ? static_cast<int32_t>(static_cast<uint32_t>(v)) : static_cast<int64_t>(v);
  }
  // A buffer / ustring; null (-1) reads as empty.
  std::string_view Bytes() {
    int64_t len = Int(4);
    if (len < 0) return {};
    if (!ok_ || s_.size() - off_ < static_cast<size_t>(len)) {
      ok_ = false;
      return {};
    }
    std::string_view v = s_.substr(off_, static_cast<size_t>(len));
    off_ += static_cast<size_t>(len);
    return v;
  }
  bool SkipStat() { return Skip(kStatBytes); }
  bool Skip(size_t n) {
    if (!ok_ || s_.size() - off_ < n) return ok_ = false;
    off_ += n;
    return true;
  }
  bool AtEnd() const { return ok_ && off_ == s_.size(); }
  bool ok() const { return ok_; }

 private:
  std::string_view s_;
  size_t off_ = 0;
  bool ok_ = true;
};

bool CreateRight(const Plan& plan, Conn& c, const Slot& s, WireReader& r) {
  std::string_view path = r.Bytes();
  if (!r.AtEnd()) return false;
  if (plan.workload != Workload::kCreate) {
    NodePath(plan, c.index, s.aux, &c.scratch);
    return path == c.scratch;
  }
  const std::string& prefix = plan.create_prefixes[static_cast<size_t>(s.aux)];
  return path.size() == prefix.size() + 10 && path.starts_with(prefix);
}

// MultiResponse: {type, done, err} headers with their bodies, ended by
// {-1, true, -1}. Every op must be a successful setData.
bool MultiRight(const Plan& plan, WireReader& r) {
  for (int i = 0;; i++) {
    int64_t type = r.Int(4);
    int64_t done = r.Int(1);
    int64_t err = r.Int(4);
    if (!r.ok()) return false;
    if (done) return type == -1 && i == plan.multi_ops && r.AtEnd();
    if (type != static_cast<int32_t>(OpCode::kSetData) || err != 0 || !r.SkipStat()) return false;
  }
}

}  // namespace

bool ParseReplyHead(std::string_view payload, ReplyHead* out) {
  WireReader r(payload);
  out->xid = static_cast<int32_t>(r.Int(4));
  out->zxid = r.Int(8);
  out->err = static_cast<int32_t>(r.Int(4));
  if (!r.ok()) return false;
  out->body = payload.substr(16);
  return true;
}

bool ReplyBodyRight(const Plan& plan, Conn& c, const Slot& s, std::string_view body) {
  WireReader r(body);
  switch (s.op) {
    case OpCode::kGetData:
      return r.Bytes() == plan.payload && r.SkipStat() && r.AtEnd();
    case OpCode::kCreate:
      return CreateRight(plan, c, s, r);
    case OpCode::kSetData:
    case OpCode::kExists:
      return r.SkipStat() && r.AtEnd();
    case OpCode::kDelete:
      return r.AtEnd();
    case OpCode::kGetChildren2: {
      int64_t n = r.Int(4);
      for (int64_t i = 0; i < n && r.ok(); i++) r.Bytes();
      return n == plan.children && r.SkipStat() && r.AtEnd();
    }
    case OpCode::kMulti:
      return MultiRight(plan, r);
    default:
      return true;
  }
}

}  // namespace aviary::bench
