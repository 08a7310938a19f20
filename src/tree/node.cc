#include "tree/node.h"

#include <pthread.h>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include "base/check.h"
#include "tree/regions.h"

namespace aviary::tree {

// --- NodeStat --------------------------------------------------------------

namespace detail {
StatExt* stat_ext_base = nullptr;
}  // namespace detail

namespace {

// The pool of StatExt entries: one reserved span of address space
// (regions.h ReserveSpan, committed in 2 MiB steps, LIFO reuse of freed
// entries; id 0 is never handed out). Alloc/Free under a mutex (stats of
// value nodes live on several threads) that a fork (snapshots are written
// by a forked child) never copies while held; an entry is read and written
// by its stat's owner only.
class StatExtPool {
 public:
  static StatExtPool& Get() {
    static StatExtPool* pool = new StatExtPool();  // never destroyed: stats may outlive static destruction
    return *pool;
  }
  uint32_t Alloc() {
    std::lock_guard<std::mutex> lock(mu_);
    ++live_;
    if (free_ != 0) {
      const uint32_t id = free_;
      free_ = detail::stat_ext_base[id].next_free;
      return id;
    }
    const size_t id = next_++;
    const size_t need = (id + 1) * sizeof(StatExt);
    if (detail::stat_ext_base == nullptr) {
      reserved_ = kMaxReserveBytes;
      detail::stat_ext_base = reinterpret_cast<StatExt*>(ReserveSpan(&reserved_));
    }
    if (need > reserved_ || id > UINT32_MAX) {
      --next_;
      --live_;
      throw std::bad_alloc();
    }
    while (committed_ < need) {
      // The first step keeps 4 KiB pages (a few extended stats stay small).
      CommitSpan(reinterpret_cast<char*>(detail::stat_ext_base) + committed_, kRegionBytes, committed_ != 0);
      committed_ += kRegionBytes;
    }
    return static_cast<uint32_t>(id);
  }
  void Free(uint32_t id) {
    std::lock_guard<std::mutex> lock(mu_);
    --live_;
    detail::stat_ext_base[id].next_free = free_;
    free_ = id;
  }
  size_t live() {
    std::lock_guard<std::mutex> lock(mu_);
    return live_;
  }

 private:
  static constexpr size_t kMaxReserveBytes = size_t{64} << 30;
  StatExtPool() {
    pthread_atfork([] { Get().mu_.lock(); }, [] { Get().mu_.unlock(); }, [] { Get().mu_.unlock(); });
  }
  std::mutex mu_;
  size_t reserved_ = 0;
  size_t committed_ = 0;
  size_t next_ = 1;
  uint32_t free_ = 0;
  size_t live_ = 0;
};

}  // namespace

NodeStat& NodeStat::operator=(const NodeStat& o) {
  if (this == &o) return *this;
  if (o.ext_ != 0) {
    if (ext_ == 0) ext_ = StatExtPool::Get().Alloc();
    detail::stat_ext_base[ext_] = o.Ext();
  } else if (ext_ != 0) {
    FreeExt();
  }
  czxid_lo_ = o.czxid_lo_;
  ctime_lo_ = o.ctime_lo_;
  czxid_hi_ = o.czxid_hi_;
  ctime_code_ = o.ctime_code_;
  return *this;
}

void NodeStat::CopyExt(const NodeStat& o) {
  ext_ = StatExtPool::Get().Alloc();
  detail::stat_ext_base[ext_] = o.Ext();
}

void NodeStat::FreeExt() {
  StatExtPool::Get().Free(ext_);
  ext_ = 0;
}

StatExt& NodeStat::ExtendSlow() {
  const int64_t z = CompactZxid();
  const int64_t t = CompactTime();
  ext_ = StatExtPool::Get().Alloc();
  detail::stat_ext_base[ext_] = StatExt{z, z, t, t, z, 0, 0, 0, 0};
  return detail::stat_ext_base[ext_];
}

void NodeStat::Init(int64_t zxid, int64_t time_ms) { Assign(zxid, zxid, time_ms, time_ms, zxid, 0, 0, 0); }

void NodeStat::Assign(int64_t czxid, int64_t mzxid, int64_t ctime, int64_t mtime, int64_t pzxid, int32_t version,
                      int32_t cversion, int32_t aversion) {
  if (mzxid == czxid && pzxid == czxid && mtime == ctime && version == 0 && cversion == 0 && aversion == 0 &&
      Fits(czxid) && TimeFits(ctime)) {
    if (ext_ != 0) FreeExt();
    SetCompact(czxid, ctime);
    return;
  }
  if (ext_ == 0) ext_ = StatExtPool::Get().Alloc();
  detail::stat_ext_base[ext_] = StatExt{czxid, mzxid, ctime, mtime, pzxid, version, cversion, aversion, 0};
  SetCompact(0, 0);  // unused while extended
}

size_t NodeStat::ExtendedCount() { return StatExtPool::Get().live(); }

// --- NodeBytes -------------------------------------------------------------

NodeBytes::~NodeBytes() {
  FreeLinkBlock();
  if (!in_arena()) std::free(p_);
}

void NodeBytes::FreeLinkBlock() {
  if (!has_link_slot()) return;
  uintptr_t w = link();
  ChildList::Reset(w);
}

NodeBytes::NodeBytes(NodeBytes&& o) noexcept : p_(o.p_) {
  if (o.in_arena()) {
    // An arena record (and its link) stays with its tree: a copy of the data.
    p_ = o.empty() ? nullptr : Build(nullptr, {}, o.view(), false, 0);
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

size_t NodeBytes::BlockBytesFor(size_t name, size_t data, bool link) {
  if (name == 0 && data == 0 && !link) return 0;
  return VarintBytes(uint64_t{name} << 2) + VarintBytes(data) + (link ? sizeof(uintptr_t) : 0) + name + data;
}

char* NodeBytes::Build(BytesArena* arena, std::string_view name, std::string_view data, bool with_link, uintptr_t w) {
  // Lengths are bounded by a request (jute.maxbuffer <= 128 MiB), so both
  // varints decode into 32 bits.
  AV_CHECK(name.size() < (1u << 29) && data.size() < (1u << 31), "NodeBytes: name or data too large");
  const size_t bytes = BlockBytesFor(name.size(), data.size(), with_link);
  char* fresh = arena == nullptr ? nullptr : arena->Alloc(bytes);
  const bool in_arena = fresh != nullptr;
  if (!in_arena) {
    fresh = static_cast<char*>(std::malloc(bytes));
    if (fresh == nullptr) throw std::bad_alloc();
  }
  char* p = PutVarint(fresh, uint64_t{name.size()} << 2 | (with_link ? 2 : 0) | (in_arena ? 1 : 0));
  p = PutVarint(p, data.size());
  if (with_link) {
    std::memcpy(p, &w, sizeof w);
    p += sizeof w;
  }
  if (!name.empty()) std::memcpy(p, name.data(), name.size());
  if (!data.empty()) std::memcpy(p + name.size(), data.data(), data.size());
  return fresh;
}

void NodeBytes::Set(std::string_view name, std::string_view data) {
  // Only a tree (SetIn) may replace one of its arena records.
  AV_CHECK(!in_arena(), "NodeBytes::Set on a tree's arena record");
  // Built aside first: name or data may point into the old block.
  const bool with_link = link() != 0;
  char* fresh = name.empty() && data.empty() && !with_link ? nullptr : Build(nullptr, name, data, with_link, link());
  std::free(p_);  // the link's block (if any) now belongs to `fresh`
  p_ = fresh;
}

void NodeBytes::SetIn(BytesArena& arena, std::string_view name, std::string_view data) {
  const uintptr_t w = link();
  const bool with_link = has_link_slot();
  char* fresh = name.empty() && data.empty() && !with_link ? nullptr : Build(&arena, name, data, with_link, w);
  // The old block goes back without its link's child block (`fresh` has it).
  if (in_arena()) {
    arena.Free(p_, BlockBytes());
  } else {
    std::free(p_);
  }
  p_ = fresh;
}

void NodeBytes::SetLink(BytesArena* arena, uintptr_t w) {
  if (has_link_slot()) {
    const Head h = Parse();
    std::memcpy(p_ + h.header - sizeof w, &w, sizeof w);
    return;
  }
  if (w == 0) return;
  AV_CHECK(!in_arena() || arena != nullptr, "NodeBytes::SetLink: an arena record needs its arena");
  const std::string_view n = name();
  const std::string_view d = view();
  char* fresh = Build(arena, n, d, true, w);  // a tree's node goes to (or stays in) its arena
  if (in_arena()) {
    arena->Free(p_, BlockBytes());
  } else {
    std::free(p_);
  }
  p_ = fresh;
}

void NodeBytes::ReleaseIn(BytesArena& arena) {
  FreeLinkBlock();
  if (in_arena()) {
    arena.Free(p_, BlockBytes());
  } else {
    std::free(p_);
  }
  p_ = nullptr;
}

// --- ChildList -------------------------------------------------------------

void ChildList::Reset(uintptr_t& w) {
  if (Block* b = BlockOf(w)) std::free(b);
  w = 0;
}

void ChildList::Clear(uintptr_t& w) {
  Block* b = BlockOf(w);
  if (b == nullptr) return;
  const int64_t a = b->aux;
  std::free(b);
  w = 0;
  SetAux(w, a);
}

void ChildList::SetAux(uintptr_t& w, int64_t v) {
  if (Block* b = BlockOf(w); b != nullptr) {
    if (b->size != 0 || !AuxFitsWord(v)) {
      b->aux = v;
      return;
    }
    std::free(b);  // an aux-only block whose new value fits the word
    w = 0;
  }
  if (AuxFitsWord(v)) {
    w = v == 0 ? 0 : (static_cast<uintptr_t>(static_cast<uint64_t>(v) << 1) | 1);
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
  w = reinterpret_cast<uintptr_t>(b);
}

void ChildList::Reserve(uintptr_t& w, uint32_t capacity, Node* base) {
  Block* b = BlockOf(w);
  if (b != nullptr && b->capacity >= capacity) {
    b->base = base;
    return;
  }
  const int64_t a = ChildList(w).aux();
  const size_t bytes = std::max(sizeof(Block), offsetof(Block, items) + sizeof(uint32_t) * capacity);
  auto* grown = static_cast<Block*>(std::realloc(b, bytes));
  if (grown == nullptr) throw std::bad_alloc();
  if (b == nullptr) {
    grown->size = 0;
    grown->aux = a;
  }
  grown->capacity = capacity;
  grown->base = base;
  w = reinterpret_cast<uintptr_t>(grown);
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

void ChildList::Insert(uintptr_t& w, Node* child, Node* base) {
  const uint32_t n = static_cast<uint32_t>(ChildList(w).size());
  const Block* old = BlockOf(w);
  if (n == (old == nullptr ? 0 : old->capacity)) {
    // Small lists grow by 2 (most parents have few children), large by 1/4.
    Reserve(w, n < 8 ? n + 2 : n + n / 4, base);
  }
  Block* b = BlockOf(w);
  b->base = base;
  const std::string_view name = child->name();
  uint32_t at = n;
  if (n != 0 && !((base + b->items[n - 1])->name() < name)) {
    at = static_cast<uint32_t>(ChildList(w).lower_bound(name) - ChildList(w).begin());
  }
  std::memmove(&b->items[at + 1], &b->items[at], sizeof(uint32_t) * (n - at));
  b->items[at] = static_cast<uint32_t>(child - base);
  b->size = n + 1;
}

bool ChildList::Erase(uintptr_t& w, std::string_view name) {
  const ChildList view(w);
  const_iterator it = view.lower_bound(name);
  if (it == view.end() || *it != name) return false;
  const auto at = static_cast<uint32_t>(it - view.begin());
  Block* b = BlockOf(w);
  std::memmove(&b->items[at], &b->items[at + 1], sizeof(uint32_t) * (b->size - at - 1));
  if (--b->size == 0) Clear(w);
  return true;
}

// --- Node ------------------------------------------------------------------

Node& Node::operator=(const Node& o) {
  if (this == &o) return *this;
  stat = o.stat;
  data = o.data;
  set_ephemeral_owner(o.ephemeral_owner());
  acl = o.acl;
  kind = o.kind;
  data_null = o.data_null;
  return *this;
}

static_assert(sizeof(NodeStat) == 16);
static_assert(sizeof(StatExt) == 56);
static_assert(sizeof(Node) <= 32, "Node grew: check the layout (stat's tail padding must hold kind and data_null)");

}  // namespace aviary::tree
