#include "storage/snapshot_stream.h"

namespace aviary::storage {
namespace {

constexpr size_t kBatchNodes = 4096;
constexpr size_t kBatchBytes = 4 << 20;  // or fewer nodes once their paths and data reach this
constexpr size_t kMaxQueuedBatches = 8;

std::string At(const SnapshotBody& b, size_t off, const std::string& what) {
  return b.path + ": " + what + " at offset " + std::to_string(off);
}

// Parses and bounds the block header at `off`; empty or the problem.
std::string CheckHeader(const SnapshotBody& b, size_t off, uint32_t seq, snapblock::Header* h) {
  if (b.end - off < snapblock::kHeaderBytes) return At(b, off, "truncated block header");
  std::string why;
  if (!snapblock::ParseHeader(b.data + off, h, &why)) return At(b, off, why);
  if (h->stored_bytes > b.end - off - snapblock::kHeaderBytes) return At(b, off, "block runs past the trailer");
  if (h->seq != seq)
    return At(b, off, "block " + std::to_string(h->seq) + " where " + std::to_string(seq) + " belongs");
  if (!snapblock::CrcMatches(b.data + off, *h, b.data + off + snapblock::kHeaderBytes)) {
    return At(b, off, "block " + std::to_string(seq) + " checksum mismatch");
  }
  return {};
}

}  // namespace

std::string VerifySnapshotBody(const SnapshotBody& b) {
  size_t off = b.begin;
  uint32_t seq = 0;
  while (off < b.end) {
    snapblock::Header h;
    std::string bad = CheckHeader(b, off, seq, &h);
    if (!bad.empty()) return bad;
    off += snapblock::kHeaderBytes + h.stored_bytes;
    ++seq;
  }
  if (seq != b.blocks) {
    return At(b, b.end, "trailer block count " + std::to_string(b.blocks) + " != " + std::to_string(seq));
  }
  return {};
}

SnapshotStream::Result SnapshotStream::Fail(const std::string& what) {
  error_ = At(body_, block_at_, what);
  return Result::kError;
}

bool SnapshotStream::LoadBlock() {
  block_at_ = pos_;
  snapblock::Header h;
  error_ = CheckHeader(body_, pos_, seq_, &h);
  if (!error_.empty()) return false;
  std::string why;
  if (!snapblock::Expand(h, body_.data + pos_ + snapblock::kHeaderBytes, &raw_, &why)) {
    error_ = At(body_, pos_, "block " + std::to_string(seq_) + ": " + why);
    return false;
  }
  pos_ += snapblock::kHeaderBytes + h.stored_bytes;
  raw_pos_ = 0;
  ++seq_;
  return true;
}

SnapshotStream::Result SnapshotStream::Next(SnapshotNode* n) {
  NodeView v;
  const Result r = Next(&v);
  if (r == Result::kNode) CopyNode(v, n);
  return r;
}

SnapshotStream::Result SnapshotStream::Next(NodeView* n) {
  if (!error_.empty()) return Result::kError;
  while (true) {
    if (raw_pos_ >= raw_.size()) {
      if (pos_ >= body_.end) break;
      if (!LoadBlock()) return Result::kError;
      continue;
    }
    std::string why;
    switch (decoder_.Next(raw_, &raw_pos_, n, &swept_, &why)) {
      case snaprec::Decoder::Kind::kNode:
        if (nodes_ == 0 && n->path != "/") return Fail("the first node is not the root");
        ++nodes_;
        return Result::kNode;
      case snaprec::Decoder::Kind::kSwept:
        continue;
      case snaprec::Decoder::Kind::kError:
        if (why.empty()) continue;  // only ACL records were left in the block
        return Fail("block " + std::to_string(seq_ - 1) + ": " + why + " (record at block offset " +
                    std::to_string(raw_pos_) + ")");
    }
  }
  if (seq_ != body_.blocks) {
    block_at_ = body_.end;
    return Fail("trailer block count " + std::to_string(body_.blocks) + " != " + std::to_string(seq_));
  }
  if (nodes_ != body_.nodes) {
    block_at_ = body_.end;
    return Fail("trailer node count " + std::to_string(body_.nodes) + " != " + std::to_string(nodes_));
  }
  return Result::kEnd;
}

SnapshotPump::SnapshotPump(SnapshotBody body) : stream_(std::move(body)) {
  thread_ = std::thread([this] { Run(); });
}

SnapshotPump::~SnapshotPump() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

SnapshotPump::Batch SnapshotPump::Fill(SnapshotStream::Result* r) {
  Batch b;
  b.nodes.reserve(kBatchNodes);
  b.bytes.reserve(kBatchBytes + (64 << 10));
  NodeView v;
  while (b.nodes.size() < kBatchNodes && b.bytes.size() < kBatchBytes) {
    *r = stream_.Next(&v);
    if (*r != SnapshotStream::Result::kNode) break;
    Entry& e = b.nodes.emplace_back();
    e.path_at = b.bytes.size();
    e.path_len = static_cast<uint32_t>(v.path.size());
    b.bytes.append(v.path);
    e.data_at = b.bytes.size();
    e.data_len = static_cast<uint32_t>(v.data.size());
    b.bytes.append(v.data);
    e.stat = v.stat;
    e.acl = v.acl;
    e.kind = v.kind;
    e.data_null = v.data_null;
  }
  b.last = *r;
  return b;
}

void SnapshotPump::Run() {
  SnapshotStream::Result r = SnapshotStream::Result::kNode;
  while (r == SnapshotStream::Result::kNode) {
    Batch b = Fill(&r);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return stop_ || queue_.size() < kMaxQueuedBatches; });
    if (stop_) return;
    if (r != SnapshotStream::Result::kNode) {
      error_ = stream_.error();
      offset_ = stream_.offset();
      swept_ = std::move(stream_.swept());
    }
    queue_.push_back(std::move(b));
    cv_.notify_all();
  }
}

SnapshotStream::Result SnapshotPump::Next(NodeView* n) {
  while (at_ >= current_.nodes.size()) {
    if (current_.last != SnapshotStream::Result::kNode) return current_.last;
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !queue_.empty(); });
    current_ = std::move(queue_.front());
    queue_.pop_front();
    at_ = 0;
    cv_.notify_all();
  }
  const Entry& e = current_.nodes[at_++];
  n->path = std::string_view(current_.bytes.data() + e.path_at, e.path_len);
  n->data = std::string_view(current_.bytes.data() + e.data_at, e.data_len);
  n->stat = e.stat;
  n->kind = e.kind;
  n->data_null = e.data_null;
  n->acl = e.acl;
  return SnapshotStream::Result::kNode;
}

SnapshotStream::Result SnapshotPump::Next(SnapshotNode* n) {
  NodeView v;
  const SnapshotStream::Result r = Next(&v);
  if (r == SnapshotStream::Result::kNode) CopyNode(v, n);
  return r;
}

}  // namespace aviary::storage
