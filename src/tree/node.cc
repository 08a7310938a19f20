#include "tree/node.h"

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

#include "base/check.h"

namespace aviary::tree {

// --- NodeBytes -------------------------------------------------------------

NodeBytes::~NodeBytes() {
  if (!in_arena()) std::free(p_);
}

NodeBytes::NodeBytes(NodeBytes&& o) noexcept : p_(o.p_) {
  if (o.in_arena()) {
    p_ = Build(nullptr, {}, o.view());  // an arena record stays with its tree
  } else {
    o.p_ = nullptr;
  }
}

NodeBytes& NodeBytes::operator=(const NodeBytes& o) {
  if (this != &o) Set(name(), o.view());
  return *this;
}

NodeBytes& NodeBytes::operator=(NodeBytes&& o) noexcept {
  if (this != &o) Set(name(), o.view());
  return *this;
}

NodeBytes& NodeBytes::operator=(std::string_view data) {
  Set(name(), data);
  return *this;
}

namespace {

size_t VarintBytes(uint64_t v) {
  size_t n = 1;
  for (; v >= 0x80; v >>= 7) ++n;
  return n;
}

char* PutVarint(char* p, uint64_t v) {
  for (; v >= 0x80; v >>= 7) *p++ = static_cast<char>((v & 0x7f) | 0x80);
  *p++ = static_cast<char>(v);
  return p;
}

}  // namespace

const char* NodeBytes::VarintSlow(const char* p, uint32_t* v) {
  uint32_t out = 0;
  for (int shift = 0;; shift += 7) {
    const auto b = static_cast<unsigned char>(*p++);
    out |= static_cast<uint32_t>(b & 0x7f) << shift;
    if (b < 0x80) break;
  }
  if (v != nullptr) *v = out;
  return p;
}

size_t NodeBytes::BlockBytesFor(size_t name, size_t data) {
  if (name == 0 && data == 0) return 0;
  return VarintBytes(uint64_t{name} << 1) + VarintBytes(data) + name + data;
}

char* NodeBytes::Build(BytesArena* arena, std::string_view name, std::string_view data) {
  // Lengths are bounded by a request (jute.maxbuffer <= 128 MiB), so both
  // varints decode into 32 bits.
  AV_CHECK(name.size() < (1u << 30) && data.size() < (1u << 31), "NodeBytes: name or data too large");
  const size_t bytes = BlockBytesFor(name.size(), data.size());
  char* fresh = arena == nullptr ? nullptr : arena->Alloc(bytes);
  const bool in_arena = fresh != nullptr;
  if (!in_arena) {
    fresh = static_cast<char*>(std::malloc(bytes));
    if (fresh == nullptr) throw std::bad_alloc();
  }
  char* p = PutVarint(fresh, uint64_t{name.size()} << 1 | (in_arena ? 1 : 0));
  p = PutVarint(p, data.size());
  if (!name.empty()) std::memcpy(p, name.data(), name.size());
  if (!data.empty()) std::memcpy(p + name.size(), data.data(), data.size());
  return fresh;
}

void NodeBytes::Set(std::string_view name, std::string_view data) {
  // Only a tree (SetIn) may replace one of its arena records.
  AV_CHECK(!in_arena(), "NodeBytes::Set on a tree's arena record");
  // Built aside first: name or data may point into the old block.
  char* fresh = name.empty() && data.empty() ? nullptr : Build(nullptr, name, data);
  std::free(p_);
  p_ = fresh;
}

void NodeBytes::SetIn(BytesArena& arena, std::string_view name, std::string_view data) {
  char* fresh = name.empty() && data.empty() ? nullptr : Build(&arena, name, data);
  ReleaseIn(arena);
  p_ = fresh;
}

void NodeBytes::ReleaseIn(BytesArena& arena) {
  if (in_arena()) {
    arena.Free(p_, BlockBytes());
  } else {
    std::free(p_);
  }
  p_ = nullptr;
}

// --- ChildList -------------------------------------------------------------

ChildList::~ChildList() { Clear(); }

void ChildList::Clear() {
  std::free(b_);
  b_ = nullptr;
}

void ChildList::Reserve(uint32_t capacity, Node* base) {
  if (b_ != nullptr && b_->capacity >= capacity) return;
  const size_t bytes = offsetof(Block, items) + sizeof(uint32_t) * capacity;
  auto* grown = static_cast<Block*>(std::realloc(b_, bytes));
  if (grown == nullptr) throw std::bad_alloc();
  if (b_ == nullptr) grown->size = 0;
  grown->capacity = capacity;
  grown->base = base;
  b_ = grown;
}

ChildList::const_iterator ChildList::lower_bound(std::string_view name) const {
  return std::lower_bound(begin(), end(), name, [](std::string_view a, std::string_view b) { return a < b; });
}

ChildList::const_iterator ChildList::upper_bound(std::string_view name) const {
  return std::upper_bound(begin(), end(), name, [](std::string_view a, std::string_view b) { return a < b; });
}

Node* ChildList::Get(std::string_view name) const {
  const_iterator it = lower_bound(name);
  if (it == end() || *it != name) return nullptr;
  return const_cast<Node*>(it.node());
}

void ChildList::Insert(Node* child, Node* base) {
  const uint32_t n = static_cast<uint32_t>(size());
  if (n == (b_ == nullptr ? 0 : b_->capacity)) {
    // Small lists grow by 2 (most parents have few children), large by 1/4.
    Reserve(n < 8 ? n + 2 : n + n / 4, base);
  }
  const std::string_view name = child->name();
  uint32_t at = n;
  if (n != 0 && !((base + b_->items[n - 1])->name() < name)) at = static_cast<uint32_t>(lower_bound(name) - begin());
  std::memmove(&b_->items[at + 1], &b_->items[at], sizeof(uint32_t) * (n - at));
  b_->items[at] = static_cast<uint32_t>(child - base);
  b_->size = n + 1;
}

bool ChildList::Erase(std::string_view name) {
  const_iterator it = lower_bound(name);
  if (it == end() || *it != name) return false;
  const auto at = static_cast<uint32_t>(it - begin());
  std::memmove(&b_->items[at], &b_->items[at + 1], sizeof(uint32_t) * (b_->size - at - 1));
  if (--b_->size == 0) Clear();
  return true;
}

// --- Node ------------------------------------------------------------------

Node& Node::operator=(const Node& o) {
  if (this == &o) return *this;
  stat = o.stat;
  data = o.data;
  acl = o.acl;
  kind = o.kind;
  data_null = o.data_null;
  return *this;
}

static_assert(sizeof(Node) <= 88, "Node grew: check the layout (stat's tail padding must hold kind and data_null)");

}  // namespace aviary::tree
