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

char* NodeBytes::Build(BytesArena* arena, std::string_view name, std::string_view data) {
  const size_t bytes = 8 + name.size() + data.size();
  char* fresh = arena == nullptr ? nullptr : arena->Alloc(bytes);
  uint32_t name_field = static_cast<uint32_t>(name.size());
  if (fresh != nullptr) {
    name_field |= kArenaBit;
  } else {
    fresh = static_cast<char*>(std::malloc(bytes));
    if (fresh == nullptr) throw std::bad_alloc();
  }
  const auto data_bytes = static_cast<uint32_t>(data.size());
  std::memcpy(fresh, &name_field, 4);
  std::memcpy(fresh + 4, &data_bytes, 4);
  if (!name.empty()) std::memcpy(fresh + 8, name.data(), name.size());
  if (!data.empty()) std::memcpy(fresh + 8 + name.size(), data.data(), data.size());
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

void ChildList::Reserve(uint32_t capacity) {
  if (b_ != nullptr && b_->capacity >= capacity) return;
  const size_t bytes = offsetof(Block, items) + sizeof(Node*) * capacity;
  auto* grown = static_cast<Block*>(std::realloc(b_, bytes));
  if (grown == nullptr) throw std::bad_alloc();
  if (b_ == nullptr) grown->size = 0;
  grown->capacity = capacity;
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

void ChildList::Insert(Node* child) {
  const uint32_t n = static_cast<uint32_t>(size());
  if (n == (b_ == nullptr ? 0 : b_->capacity)) {
    // Small lists grow by 2 (most parents have few children), large by 1/4.
    Reserve(n < 8 ? n + 2 : n + n / 4);
  }
  const std::string_view name = child->name();
  uint32_t at = n;
  if (n != 0 && !(b_->items[n - 1]->name() < name)) at = static_cast<uint32_t>(lower_bound(name) - begin());
  std::memmove(&b_->items[at + 1], &b_->items[at], sizeof(Node*) * (n - at));
  b_->items[at] = child;
  b_->size = n + 1;
}

bool ChildList::Erase(std::string_view name) {
  const_iterator it = lower_bound(name);
  if (it == end() || *it != name) return false;
  const auto at = static_cast<uint32_t>(it - begin());
  std::memmove(&b_->items[at], &b_->items[at + 1], sizeof(Node*) * (b_->size - at - 1));
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

static_assert(sizeof(Node) <= 96, "Node grew: check the layout");

}  // namespace aviary::tree
