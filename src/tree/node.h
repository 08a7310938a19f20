// One znode, compact (issue 10: ~250 B per 100 B znode instead of ~490),
// with ZooKeeper's persisted-stat meaning: `stat.cversion` counts child
// *creations* (ZooKeeper's StatPersisted); the client-visible Stat derives
// cversion = 2*cversion - numChildren and hides the ephemeralOwner of
// containers/TTL nodes (see ToStat).
//
// A Node is either a plain value (a snapshot record, a predicted copy: no
// name, no children, no parent) or a node owned by a DataTree (pool slot,
// name, parent link, children). Copying a Node copies its value part only
// (stat, data, null flag, kind, ACL ref); assigning `data` keeps the name.
// Layout (72 bytes): the fields a lookup touches (parent id, name+data
// pointer) come first, in the node's first 16 bytes; the name and the data
// share one block (NodeBytes) from the tree's BytesArena; children are one
// sorted array of child ids (ChildList), ordered by name as
// std::set<std::string> ordered them; the TTL is not stored (it is the low
// 40 bits of a TTL node's ephemeralOwner).
// Not thread-safe; a tree's nodes are touched by its owner thread only.
#pragma once

#include <cstdint>
#include <cstring>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>

#include "proto/records.h"
#include "tree/acl_cache.h"
#include "tree/bytes_arena.h"

namespace aviary::tree {

enum class NodeKind : int8_t { kPersistent, kEphemeral, kContainer, kTtl };

// Raw ephemeralOwner values ZooKeeper stores for containers and TTL nodes.
inline constexpr int64_t kContainerOwner = INT64_MIN;
inline constexpr int64_t kTtlOwnerMask = static_cast<int64_t>(0xff00000000000000ULL);
inline constexpr int64_t kMaxTtlMs = 0x000000ffffffffffLL;
inline constexpr int64_t TtlOwner(int64_t ttl_ms) { return kTtlOwnerMask | ttl_ms; }

// The persisted stat of ZooKeeper (zookeeper.jute StatPersisted), as a
// value: snapshot records, jute and digest code. A Node keeps the same
// fields less ephemeral_owner (NodeStat; the owner lives in the node's
// child list word, see ChildList::aux): Node::persisted() / set_persisted().
// The 64-bit fields first, so the struct has no inner padding (64 bytes).
struct StatPersisted {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int64_t ephemeral_owner = 0;  // raw: session, kContainerOwner or TtlOwner()
  int64_t pzxid = 0;
  int32_t version = 0;
  int32_t cversion = 0;  // number of children created (not changes)
  int32_t aversion = 0;
  bool operator==(const StatPersisted&) const = default;
};

// A Node's stat: StatPersisted without ephemeral_owner (0 for almost every
// node; Node::ephemeral_owner() keeps it elsewhere), zxids and times in 48
// bits each (44 bytes instead of 56; Node puts kind and data_null in its
// tail padding). 48 bits hold every zxid of epochs below 32768 and every
// millisecond time from 2^47 ms (~4,460 years) either side of 1970: a value
// outside that range is kept exactly all the same, in a process-wide side
// table keyed by the NodeStat's address (the `wide_` flag; copies, moves
// and destruction keep the table in step; taking a mutex only for such
// stats). The versions are plain fields.
class NodeStat {
 public:
  NodeStat() = default;
  NodeStat(const NodeStat& o);
  NodeStat& operator=(const NodeStat& o);
  ~NodeStat() {
    if (wide_ != 0) DropWide();
  }

  int64_t czxid() const { return Get(kCzxid); }
  int64_t mzxid() const { return Get(kMzxid); }
  int64_t ctime() const { return Get(kCtime); }
  int64_t mtime() const { return Get(kMtime); }
  int64_t pzxid() const { return Get(kPzxid); }
  void set_czxid(int64_t v) { Set(kCzxid, v); }
  void set_mzxid(int64_t v) { Set(kMzxid, v); }
  void set_ctime(int64_t v) { Set(kCtime, v); }
  void set_mtime(int64_t v) { Set(kMtime, v); }
  void set_pzxid(int64_t v) { Set(kPzxid, v); }
  // Whether a value is kept in the side table (tests).
  bool wide() const { return wide_ != 0; }
  // Stats kept in the side table, process-wide (tests, monitoring).
  static size_t WideCount();
  static constexpr bool Fits(int64_t v) { return v >= -(int64_t{1} << 47) && v < (int64_t{1} << 47); }

  bool operator==(const NodeStat& o) const {
    for (int f = 0; f < kFields; ++f) {
      if (Get(f) != o.Get(f)) return false;
    }
    return version == o.version && cversion == o.cversion && aversion == o.aversion;
  }

 private:
  static constexpr int kCzxid = 0, kMzxid = 1, kCtime = 2, kMtime = 3, kPzxid = 4, kFields = 5;
  int64_t Get(int f) const {
    if (wide_ != 0) return GetWide(f);
    return static_cast<int64_t>(static_cast<uint64_t>(static_cast<int64_t>(static_cast<int16_t>(hi_[f]))) << 32 |
                                lo_[f]);
  }
  void Set(int f, int64_t v) {
    if (wide_ == 0 && Fits(v)) {
      lo_[f] = static_cast<uint32_t>(v);
      hi_[f] = static_cast<uint16_t>(static_cast<uint64_t>(v) >> 32);
      return;
    }
    SetWide(f, v);
  }
  int64_t GetWide(int f) const;
  void SetWide(int f, int64_t v);
  void DropWide();

  uint32_t lo_[kFields] = {};

 public:
  int32_t version = 0;
  int32_t cversion = 0;  // number of children created (not changes)
  int32_t aversion = 0;

 private:
  uint16_t hi_[kFields] = {};
  uint8_t wide_ = 0;  // 1: the five values are in the side table (lo_/hi_ unused)
};

// A node's data and (in a tree) its name, in one allocation:
// [varint name bytes << 1 | arena bit][varint data bytes][name][data]
// (LEB128 varints: 2 header bytes for a name under 64 bytes and data under
// 128), nullptr when both are empty. A block is either malloc'ed (values) or
// a tree's BytesArena record (arena bit set: SetIn/ReleaseIn with that arena
// only; destroying such a NodeBytes leaves the record to the arena, which
// outlives it).
class NodeBytes {
 public:
  NodeBytes() = default;
  ~NodeBytes();
  NodeBytes(const NodeBytes& o) { Set({}, o.view()); }
  NodeBytes(NodeBytes&& o) noexcept;
  // Assignments replace the data and keep this object's name.
  NodeBytes& operator=(const NodeBytes& o);
  NodeBytes& operator=(NodeBytes&& o) noexcept;
  NodeBytes& operator=(std::string_view data);

  size_t size() const { return p_ == nullptr ? 0 : Parse().data; }
  bool empty() const { return size() == 0; }
  const char* data() const {
    if (p_ == nullptr) return "";
    const Head h = Parse();
    return p_ + h.header + h.name;
  }
  std::string_view view() const {
    if (p_ == nullptr) return {};
    const Head h = Parse();
    return {p_ + h.header + h.name, h.data};
  }
  operator std::string_view() const { return view(); }  // NOLINT: reads like the std::string it replaced
  std::string_view name() const {
    if (p_ == nullptr) return {};
    uint32_t first;
    const char* q = Varint(Varint(p_, &first), nullptr);
    return {q, first >> 1};
  }
  // Replaces name and data of a malloc'ed (or empty) block.
  void Set(std::string_view name, std::string_view data);
  // Replaces name and data with a record of `arena` (malloc'ed when too
  // large for it); the old block goes back where it came from.
  void SetIn(BytesArena& arena, std::string_view name, std::string_view data);
  // Frees the block (to `arena` when it is one of its records).
  void ReleaseIn(BytesArena& arena);
  bool in_arena() const { return p_ != nullptr && (static_cast<unsigned char>(p_[0]) & 1) != 0; }
  // Bytes of the block holding `name` and `data` (0 when both are empty).
  static size_t BlockBytesFor(size_t name, size_t data);

  friend bool operator==(const NodeBytes& a, std::string_view b) { return a.view() == b; }
  friend std::ostream& operator<<(std::ostream& os, const NodeBytes& b) { return os << b.view(); }

 private:
  struct Head {
    uint32_t name;    // name bytes
    uint32_t data;    // data bytes
    uint32_t header;  // bytes of the two varints
  };
  // Reads a LEB128 varint at `p` into *v (when v is not null); returns the
  // byte after it.
  static const char* Varint(const char* p, uint32_t* v) {
    const auto b = static_cast<unsigned char>(*p);
    if (b < 0x80) {
      if (v != nullptr) *v = b;
      return p + 1;
    }
    return VarintSlow(p, v);
  }
  static const char* VarintSlow(const char* p, uint32_t* v);
  Head Parse() const {
    uint32_t first, data;
    const char* q = Varint(Varint(p_, &first), &data);
    return {first >> 1, data, static_cast<uint32_t>(q - p_)};
  }
  size_t BlockBytes() const {
    const Head h = Parse();
    return h.header + h.name + h.data;
  }
  // A fresh block holding name and data (from `arena` when given and it fits).
  static char* Build(BytesArena* arena, std::string_view name, std::string_view data);
  char* p_ = nullptr;
};

class Node;

// A node's children, sorted by name (byte order, as std::string compares),
// and one 64-bit "aux" value (the node's raw ephemeralOwner, 0 for almost
// every node), in one word: 0 (no children, aux 0), odd (no children,
// aux = word >> 1, arithmetic: any aux whose top two bits agree), or a heap
// block [u32 size][u32 capacity][pool base][aux][u32 child id ...] (NodePool
// ids: 4 bytes a child instead of a pointer's 8; a block with no children
// holds an aux that does not fit the word, e.g. a container's INT64_MIN).
// Iteration yields the child names. Insertion/removal are the tree's.
class ChildList {
 public:
  class const_iterator {
   public:
    using iterator_category = std::random_access_iterator_tag;
    using value_type = std::string_view;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = std::string_view;
    const_iterator() = default;
    const_iterator(const uint32_t* p, const Node* base) : p_(p), base_(base) {}
    std::string_view operator*() const;
    const Node* node() const;
    const_iterator& operator++() { return ++p_, *this; }
    const_iterator operator++(int) { return const_iterator(p_++, base_); }
    const_iterator& operator--() { return --p_, *this; }
    const_iterator operator--(int) { return const_iterator(p_--, base_); }
    const_iterator& operator+=(difference_type d) { return p_ += d, *this; }
    const_iterator& operator-=(difference_type d) { return p_ -= d, *this; }
    const_iterator operator+(difference_type d) const { return const_iterator(p_ + d, base_); }
    const_iterator operator-(difference_type d) const { return const_iterator(p_ - d, base_); }
    difference_type operator-(const const_iterator& o) const { return p_ - o.p_; }
    std::string_view operator[](difference_type d) const { return *(*this + d); }
    bool operator==(const const_iterator& o) const { return p_ == o.p_; }
    auto operator<=>(const const_iterator& o) const { return p_ <=> o.p_; }

   private:
    const uint32_t* p_ = nullptr;
    const Node* base_ = nullptr;
  };
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  ChildList() = default;
  ~ChildList();
  ChildList(const ChildList&) = delete;
  ChildList& operator=(const ChildList&) = delete;

  size_t size() const {
    const Block* b = block();
    return b == nullptr ? 0 : b->size;
  }
  bool empty() const { return size() == 0; }
  const_iterator begin() const {
    const Block* b = block();
    return b == nullptr ? const_iterator() : const_iterator(b->items, b->base);
  }
  const_iterator end() const { return begin() + static_cast<std::ptrdiff_t>(size()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }
  const_iterator lower_bound(std::string_view name) const;
  const_iterator upper_bound(std::string_view name) const;
  // The child named `name`, or nullptr.
  Node* Get(std::string_view name) const;
  bool contains(std::string_view name) const { return Get(name) != nullptr; }
  // The aux value (Node::ephemeral_owner()).
  int64_t aux() const {
    if ((w_ & 1) != 0) return static_cast<int64_t>(w_) >> 1;
    return w_ == 0 ? 0 : block()->aux;
  }
  // Sets the aux value, keeping the children.
  void set_aux(int64_t v);

 private:
  friend class DataTree;
  friend class Node;
  struct Block {
    uint32_t size;
    uint32_t capacity;
    Node* base;         // the NodePool's slot 0: child = base + id (null until a child is added)
    int64_t aux;        // see aux()
    uint32_t items[1];  // really `capacity` entries
  };
  Block* block() const { return (w_ & 1) != 0 ? nullptr : reinterpret_cast<Block*>(w_); }
  static bool AuxFitsWord(int64_t v) { return (static_cast<int64_t>(static_cast<uint64_t>(v) << 1) >> 1) == v; }
  // Inserts `child` (a node of the pool whose slot 0 is `base`) at its
  // sorted place (no duplicate check); O(1) when it sorts last (sequential
  // names, snapshot load in pre-order).
  void Insert(Node* child, Node* base);
  // Removes the child named `name`; false if absent.
  bool Erase(std::string_view name);
  // Drops the children, keeps aux.
  void Clear();
  // Frees everything (aux becomes 0).
  void Reset();
  void Reserve(uint32_t capacity, Node* base);
  uintptr_t w_ = 0;
};

class Node {
 public:
  Node() = default;
  Node(const Node& o) : acl(o.acl), data(o.data), stat(o.stat), kind(o.kind), data_null(o.data_null) {
    children.set_aux(o.children.aux());
  }
  Node& operator=(const Node& o);

 private:
  // Lookup fields first (PathIs: the parent's pool id, then the name in
  // `data`): in the first 16 bytes. No path hash and no own pool id are
  // stored: the index keeps the hash, the pool derives the id from the
  // address. 72 bytes: `stat` is [[no_unique_address]], so kind and
  // data_null sit in its tail padding (assigning `stat` copies only its
  // data, GCC's Itanium layout; node_layout_test checks it).
  friend class DataTree;
  friend class PathIndex;
  friend class NodePool;
  uint32_t parent_ = 0;  // the parent's NodePool id; 0 for the root and for values

 public:
  AclCache::Ref acl = 0;
  NodeBytes data;
  ChildList children;  // empty in a value copy; also holds ephemeral_owner
  [[no_unique_address]] NodeStat stat;
  NodeKind kind = NodeKind::kPersistent;
  bool data_null = false;  // data was set from a null buffer

  // The raw ephemeralOwner: the session (kEphemeral), kContainerOwner,
  // TtlOwner(ttl) or 0 (kept in `children`' word: no bytes in the node).
  int64_t ephemeral_owner() const { return children.aux(); }
  void set_ephemeral_owner(int64_t owner) { children.set_aux(owner); }
  // The full persisted stat (stat + ephemeral_owner) and its setter.
  StatPersisted persisted() const {
    StatPersisted s;
    s.czxid = stat.czxid();
    s.mzxid = stat.mzxid();
    s.ctime = stat.ctime();
    s.mtime = stat.mtime();
    s.ephemeral_owner = ephemeral_owner();
    s.pzxid = stat.pzxid();
    s.version = stat.version;
    s.cversion = stat.cversion;
    s.aversion = stat.aversion;
    return s;
  }
  void set_persisted(const StatPersisted& s) {
    stat.set_czxid(s.czxid);
    stat.set_mzxid(s.mzxid);
    stat.set_ctime(s.ctime);
    stat.set_mtime(s.mtime);
    stat.set_pzxid(s.pzxid);
    stat.version = s.version;
    stat.cversion = s.cversion;
    stat.aversion = s.aversion;
    set_ephemeral_owner(s.ephemeral_owner);
  }

  // kTtl only (0 otherwise): the TTL in ms, from ephemeralOwner.
  int64_t ttl_ms() const { return kind == NodeKind::kTtl ? ephemeral_owner() & kMaxTtlMs : 0; }
  // In a tree: the last path component ("" for the root and for values).
  std::string_view name() const { return data.name(); }
  // In a tree: the parent's id in its NodePool (DataTree::Parent), 0 for the root.
  uint32_t parent_id() const { return parent_; }
};

inline const Node* ChildList::const_iterator::node() const { return base_ + *p_; }
inline std::string_view ChildList::const_iterator::operator*() const { return node()->name(); }

// The Stat a client sees for `n` (DataNode.copyStat).
inline proto::Stat ToStat(const Node& n) {
  proto::Stat s;
  s.czxid = n.stat.czxid();
  s.mzxid = n.stat.mzxid();
  s.ctime = n.stat.ctime();
  s.mtime = n.stat.mtime();
  s.version = n.stat.version;
  s.aversion = n.stat.aversion;
  s.ephemeralOwner = n.kind == NodeKind::kEphemeral ? n.ephemeral_owner() : 0;
  s.dataLength = static_cast<int32_t>(n.data.size());
  s.numChildren = static_cast<int32_t>(n.children.size());
  s.cversion = n.stat.cversion * 2 - s.numChildren;
  s.pzxid = n.stat.pzxid();
  return s;
}

}  // namespace aviary::tree
