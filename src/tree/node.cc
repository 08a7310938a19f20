#include "tree/node.h"

#include <pthread.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>

#include "base/check.h"

namespace aviary::tree {

// --- NodeStat --------------------------------------------------------------

namespace {

// The values of NodeStats that do not fit 48 bits, by the stat's address.
// A mutex (stats of value nodes live on several threads) that a fork
// (snapshots are written by a forked child) never copies while held.
struct WideTable {
  std::mutex mu;
  std::unordered_map<const NodeStat*, std::array<int64_t, 5>> values;
  WideTable() {
    pthread_atfork([] { Get().mu.lock(); }, [] { Get().mu.unlock(); }, [] { Get().mu.unlock(); });
  }
  static WideTable& Get() {
    static WideTable* table = new WideTable();  // never destroyed: stats may outlive static destruction
    return *table;
  }
};

}  // namespace

NodeStat::NodeStat(const NodeStat& o) : version(o.version), cversion(o.cversion), aversion(o.aversion), wide_(0) {
  std::memcpy(lo_, o.lo_, sizeof lo_);
  std::memcpy(hi_, o.hi_, sizeof hi_);
  if (o.wide_ != 0) {
    for (int f = 0; f < kFields; ++f) SetWide(f, o.GetWide(f));
  }
}

NodeStat& NodeStat::operator=(const NodeStat& o) {
  if (this == &o) return *this;
  if (o.wide_ != 0) {
    for (int f = 0; f < kFields; ++f) SetWide(f, o.GetWide(f));
  } else {
    if (wide_ != 0) DropWide();
    std::memcpy(lo_, o.lo_, sizeof lo_);
    std::memcpy(hi_, o.hi_, sizeof hi_);
  }
  version = o.version;
  cversion = o.cversion;
  aversion = o.aversion;
  return *this;
}

int64_t NodeStat::GetWide(int f) const {
  WideTable& t = WideTable::Get();
  std::lock_guard<std::mutex> lock(t.mu);
  return t.values.at(this)[static_cast<size_t>(f)];
}

void NodeStat::SetWide(int f, int64_t v) {
  WideTable& t = WideTable::Get();
  std::lock_guard<std::mutex> lock(t.mu);
  auto [it, fresh] = t.values.try_emplace(this);
  if (fresh) {
    // Moves the current (narrow) values over: wide_ is still 0 here.
    for (int g = 0; g < kFields; ++g) it->second[static_cast<size_t>(g)] = Get(g);
    wide_ = 1;
  }
  it->second[static_cast<size_t>(f)] = v;
}

void NodeStat::DropWide() {
  WideTable& t = WideTable::Get();
  std::lock_guard<std::mutex> lock(t.mu);
  t.values.erase(this);
  wide_ = 0;
}

size_t NodeStat::WideCount() {
  WideTable& t = WideTable::Get();
  std::lock_guard<std::mutex> lock(t.mu);
  return t.values.size();
}

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

ChildList::~ChildList() { Reset(); }

void ChildList::Reset() {
  if (Block* b = block()) std::free(b);
  w_ = 0;
}

void ChildList::Clear() {
  Block* b = block();
  if (b == nullptr) return;
  const int64_t a = b->aux;
  std::free(b);
  w_ = 0;
  set_aux(a);
}

void ChildList::set_aux(int64_t v) {
  if (Block* b = block(); b != nullptr) {
    if (b->size != 0 || !AuxFitsWord(v)) {
      b->aux = v;
      return;
    }
    std::free(b);  // an aux-only block whose new value fits the word
    w_ = 0;
  }
  if (AuxFitsWord(v)) {
    w_ = v == 0 ? 0 : (static_cast<uintptr_t>(static_cast<uint64_t>(v) << 1) | 1);
    return;
  }
  // sizeof(Block), not offsetof(Block, items): a Block* must point at a whole
  // Block (UBSan checks the object's size); malloc rounds 24 up to 32 anyway.
  auto* b = static_cast<Block*>(std::malloc(sizeof(Block)));
  if (b == nullptr) throw std::bad_alloc();
  b->size = 0;
  b->capacity = 0;
  b->base = nullptr;
  b->aux = v;
  w_ = reinterpret_cast<uintptr_t>(b);
}

void ChildList::Reserve(uint32_t capacity, Node* base) {
  Block* b = block();
  if (b != nullptr && b->capacity >= capacity) {
    b->base = base;
    return;
  }
  const int64_t a = aux();
  const size_t bytes = std::max(sizeof(Block), offsetof(Block, items) + sizeof(uint32_t) * capacity);
  auto* grown = static_cast<Block*>(std::realloc(b, bytes));
  if (grown == nullptr) throw std::bad_alloc();
  if (b == nullptr) {
    grown->size = 0;
    grown->aux = a;
  }
  grown->capacity = capacity;
  grown->base = base;
  w_ = reinterpret_cast<uintptr_t>(grown);
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
  const Block* old = block();
  if (n == (old == nullptr ? 0 : old->capacity)) {
    // Small lists grow by 2 (most parents have few children), large by 1/4.
    Reserve(n < 8 ? n + 2 : n + n / 4, base);
  }
  Block* b = block();
  b->base = base;
  const std::string_view name = child->name();
  uint32_t at = n;
  if (n != 0 && !((base + b->items[n - 1])->name() < name)) at = static_cast<uint32_t>(lower_bound(name) - begin());
  std::memmove(&b->items[at + 1], &b->items[at], sizeof(uint32_t) * (n - at));
  b->items[at] = static_cast<uint32_t>(child - base);
  b->size = n + 1;
}

bool ChildList::Erase(std::string_view name) {
  const_iterator it = lower_bound(name);
  if (it == end() || *it != name) return false;
  const auto at = static_cast<uint32_t>(it - begin());
  Block* b = block();
  std::memmove(&b->items[at], &b->items[at + 1], sizeof(uint32_t) * (b->size - at - 1));
  if (--b->size == 0) Clear();
  return true;
}

// --- Node ------------------------------------------------------------------

Node& Node::operator=(const Node& o) {
  if (this == &o) return *this;
  stat = o.stat;
  children.set_aux(o.children.aux());
  data = o.data;
  acl = o.acl;
  kind = o.kind;
  data_null = o.data_null;
  return *this;
}

static_assert(sizeof(NodeStat) == 44);
static_assert(sizeof(Node) <= 72, "Node grew: check the layout (stat's tail padding must hold kind and data_null)");

}  // namespace aviary::tree
