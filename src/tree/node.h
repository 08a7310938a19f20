// One znode, compact (issue 10: ~190 B per 100 B znode instead of ~490),
// with ZooKeeper's persisted-stat meaning: `stat.cversion` counts child
// *creations* (ZooKeeper's StatPersisted); the client-visible Stat derives
// cversion = 2*cversion - numChildren and hides the ephemeralOwner of
// containers/TTL nodes (see ToStat).
//
// A Node is either a plain value (a snapshot record, a predicted copy: no
// name, no children, no parent) or a node owned by a DataTree (pool slot,
// name, parent link, children). Copying a Node copies its value part only
// (stat, data, null flag, kind, ACL ref); assigning `data` keeps the name.
// Layout (32 bytes): the fields a lookup touches (parent id, name+data
// pointer) come first, in the node's first 16 bytes; the name, the data and
// the link word (children and ephemeralOwner, only when either is set)
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

// The values of a NodeStat that is not "pristine" (see NodeStat), in a
// process-wide pool of fixed 56-byte entries (StatExtPool, node.cc) named
// by a 32-bit id.
struct StatExt {
  int64_t czxid;
  int64_t mzxid;
  int64_t ctime;
  int64_t mtime;
  int64_t pzxid;
  int32_t version;
  int32_t cversion;
  int32_t aversion;
  uint32_t next_free;  // the pool's free list
};

// A Node's stat: StatPersisted without ephemeral_owner (0 for almost every
// node; Node::ephemeral_owner() keeps it elsewhere), in 14 bytes (Node puts
// kind and data_null in its 2 bytes of tail padding; the Node is 32 bytes).
// Most nodes of a large tree are written once: mzxid == pzxid == czxid,
// mtime == ctime, version == cversion == aversion == 0 ("pristine"). Such a
// stat keeps only czxid and ctime, compact:
// - czxid in 40 bits (a 32-bit low part and an 8-bit high part: zxids of
//   epochs 0..255);
// - ctime in 40 bits: a 32-bit low part and an 8-bit code for the high part
//   (t >> 32, one step = 2^32 ms, ~49.7 days): code -128 is 0 (1970-01-01
//   to 1970-02-19: the system nodes' 0 and small test clocks), others
//   kTimeBias + code (from 2012-08 to 2047-04).
// Any other stat (a node that was set, a parent, a setACL, values outside
// those ranges) is "extended": all its values live in a StatExt entry of a
// process-wide pool (56 bytes; ext_ names it), exact. Copies get their own
// entry, destruction frees it; the pool's alloc/free take a mutex (held
// across fork: snapshots are written by a forked child), reads do not.
// Setters are exact: a setter that changes a compact stat's value extends
// it first; Init/Assign set every field at once and pick the compact form
// when they can.
class NodeStat {
 public:
  NodeStat() = default;
  NodeStat(const NodeStat& o)
      : czxid_lo_(o.czxid_lo_), ctime_lo_(o.ctime_lo_), czxid_hi_(o.czxid_hi_), ctime_code_(o.ctime_code_) {
    if (o.ext_ != 0) CopyExt(o);
  }
  NodeStat& operator=(const NodeStat& o);
  ~NodeStat() {
    if (ext_ != 0) FreeExt();
  }

  int64_t czxid() const { return ext_ != 0 ? Ext().czxid : CompactZxid(); }
  int64_t mzxid() const { return ext_ != 0 ? Ext().mzxid : CompactZxid(); }
  int64_t pzxid() const { return ext_ != 0 ? Ext().pzxid : CompactZxid(); }
  int64_t ctime() const { return ext_ != 0 ? Ext().ctime : CompactTime(); }
  int64_t mtime() const { return ext_ != 0 ? Ext().mtime : CompactTime(); }
  int32_t version() const { return ext_ != 0 ? Ext().version : 0; }
  int32_t cversion() const { return ext_ != 0 ? Ext().cversion : 0; }  // number of children created
  int32_t aversion() const { return ext_ != 0 ? Ext().aversion : 0; }
  void set_czxid(int64_t v) {
    if (ext_ != 0 || v != czxid()) Extend().czxid = v;
  }
  void set_mzxid(int64_t v) {
    if (ext_ != 0 || v != mzxid()) Extend().mzxid = v;
  }
  void set_pzxid(int64_t v) {
    if (ext_ != 0 || v != pzxid()) Extend().pzxid = v;
  }
  void set_ctime(int64_t v) {
    if (ext_ != 0 || v != ctime()) Extend().ctime = v;
  }
  void set_mtime(int64_t v) {
    if (ext_ != 0 || v != mtime()) Extend().mtime = v;
  }
  void set_version(int32_t v) {
    if (ext_ != 0 || v != 0) Extend().version = v;
  }
  void set_cversion(int32_t v) {
    if (ext_ != 0 || v != 0) Extend().cversion = v;
  }
  void set_aversion(int32_t v) {
    if (ext_ != 0 || v != 0) Extend().aversion = v;
  }
  // A fresh node's stat: czxid = mzxid = pzxid = zxid, ctime = mtime = time,
  // versions 0 (compact when zxid and time fit).
  void Init(int64_t zxid, int64_t time_ms);
  // Every field at once (compact when the values are pristine and fit).
  void Assign(int64_t czxid, int64_t mzxid, int64_t ctime, int64_t mtime, int64_t pzxid, int32_t version,
              int32_t cversion, int32_t aversion);
  // Whether the values live in the pool (tests, monitoring).
  bool extended() const { return ext_ != 0; }
  // Starts loading the pool entry of an extended stat (a line the node
  // itself does not share; for a caller that knows the node a little
  // ahead, e.g. DataTree::PrefetchPath). Changes nothing.
  void Prefetch() const;  // inline below
  // Stats kept in the pool, process-wide (tests, monitoring).
  static size_t ExtendedCount();
  // Whether a czxid / a time fits the compact form.
  static constexpr bool Fits(int64_t v) { return v >= 0 && v < (int64_t{1} << 40); }
  static constexpr bool TimeFits(int64_t t) {
    const int64_t hi = t >> 32;  // arithmetic
    return hi == 0 || (hi >= kTimeBias - 127 && hi <= kTimeBias + 127);
  }
  // The high part (t >> 32) that time code 0 stands for: 2^32 ms steps
  // (kTimeBias - 127 starts 2012-08-07, kTimeBias + 127 ends 2047-04-22).
  static constexpr int64_t kTimeBias = 440;

  bool operator==(const NodeStat& o) const {
    return czxid() == o.czxid() && mzxid() == o.mzxid() && ctime() == o.ctime() && mtime() == o.mtime() &&
           pzxid() == o.pzxid() && version() == o.version() && cversion() == o.cversion() && aversion() == o.aversion();
  }

 private:
  int64_t CompactZxid() const { return static_cast<int64_t>(uint64_t{czxid_hi_} << 32 | czxid_lo_); }
  int64_t CompactTime() const {
    const int64_t hi = ctime_code_ == INT8_MIN ? 0 : kTimeBias + ctime_code_;
    return static_cast<int64_t>(static_cast<uint64_t>(hi) << 32 | ctime_lo_);
  }
  // Sets the compact fields (Fits(zxid), TimeFits(time)).
  void SetCompact(int64_t zxid, int64_t time) {
    czxid_lo_ = static_cast<uint32_t>(zxid);
    czxid_hi_ = static_cast<uint8_t>(static_cast<uint64_t>(zxid) >> 32);
    const int64_t hi = time >> 32;
    ctime_lo_ = static_cast<uint32_t>(time);
    ctime_code_ = hi == 0 ? INT8_MIN : static_cast<int8_t>(hi - kTimeBias);
  }
  const StatExt& Ext() const;  // inline below
  // The pool entry, made (holding the current values) when the stat is compact.
  StatExt& Extend();  // inline below
  StatExt& ExtendSlow();
  void CopyExt(const NodeStat& o);
  void FreeExt();

  uint32_t czxid_lo_ = 0;
  uint32_t ctime_lo_ = 0;
  uint32_t ext_ = 0;  // StatExtPool id, 0: compact
  uint8_t czxid_hi_ = 0;
  int8_t ctime_code_ = INT8_MIN;  // INT8_MIN: high part 0
};

// A node's data, (in a tree) its name and its link word (ChildList's word:
// the children and the raw ephemeralOwner; absent, i.e. 0, for almost every
// leaf), in one allocation:
// [varint name bytes << 2 | link bit << 1 | arena bit][varint data bytes]
// [8-byte link word, when the link bit is set][name][data]
// (LEB128 varints: 2 header bytes for a name under 32 bytes and data under
// 128), nullptr when name, data and link are all empty. A block is either
// malloc'ed (values) or a tree's BytesArena record (arena bit set:
// SetIn/SetLink/ReleaseIn with that arena only; destroying such a NodeBytes
// leaves the record to the arena, which outlives it). The link word's child
// block (ChildList) is owned by the NodeBytes: freed with it (also for an
// arena record, when the node is destroyed or released).
class NodeBytes {
 public:
  NodeBytes() = default;
  ~NodeBytes();
  // Copies the data only (no name, no link).
  NodeBytes(const NodeBytes& o) { Set({}, o.view()); }
  NodeBytes(NodeBytes&& o) noexcept;
  // Assignments replace the data and keep this object's name and link.
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
    if ((first & 2) != 0) q += sizeof(uintptr_t);
    return {q, first >> 2};
  }
  // The link word (ChildList's), 0 when the block has none.
  uintptr_t link() const {
    if (p_ == nullptr || (static_cast<unsigned char>(p_[0]) & 2) == 0) return 0;
    uintptr_t w;
    std::memcpy(&w, Varint(Varint(p_, nullptr), nullptr), sizeof w);
    return w;
  }
  // Replaces name and data of a malloc'ed (or empty) block; keeps the link.
  void Set(std::string_view name, std::string_view data);
  // Replaces name and data with a record of `arena` (malloc'ed when too
  // large for it), keeping the link; the old block goes back where it came
  // from.
  void SetIn(BytesArena& arena, std::string_view name, std::string_view data);
  // Sets the link word (whatever it points to is the caller's: the old
  // word's block is not freed here). In place when the block has a link
  // slot; otherwise the block is rebuilt with one (in `arena` for an arena
  // record: `arena` must be its arena then). A word of 0 keeps an existing
  // slot.
  void SetLink(BytesArena* arena, uintptr_t w);
  // Frees the link's child block and the block (to `arena` when it is one
  // of its records).
  void ReleaseIn(BytesArena& arena);
  bool in_arena() const { return p_ != nullptr && (static_cast<unsigned char>(p_[0]) & 1) != 0; }
  // Starts loading the block's cache lines, up to 184 bytes from its start
  // (header, name, link and ~100 bytes of data at any alignment; a tree walk
  // asks a few nodes ahead).
  void Prefetch() const {
    if (p_ != nullptr) {
      __builtin_prefetch(p_);
      __builtin_prefetch(p_ + 64);
      __builtin_prefetch(p_ + 120);
    }
  }
  // Bytes of the block holding `name`, `data` and (when `link`) a link word
  // (0 when all are empty).
  static size_t BlockBytesFor(size_t name, size_t data, bool link = false);

  friend bool operator==(const NodeBytes& a, std::string_view b) { return a.view() == b; }
  friend std::ostream& operator<<(std::ostream& os, const NodeBytes& b) { return os << b.view(); }

 private:
  struct Head {
    uint32_t name;    // name bytes
    uint32_t data;    // data bytes
    uint32_t header;  // bytes of the two varints and the link slot
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
    if ((first & 2) != 0) q += sizeof(uintptr_t);
    return {first >> 2, data, static_cast<uint32_t>(q - p_)};
  }
  size_t BlockBytes() const {
    const Head h = Parse();
    return h.header + h.name + h.data;
  }
  bool has_link_slot() const { return p_ != nullptr && (static_cast<unsigned char>(p_[0]) & 2) != 0; }
  // A fresh block holding name, data and (when `with_link`) the link word
  // `w` (from `arena` when given and it fits).
  static char* Build(BytesArena* arena, std::string_view name, std::string_view data, bool with_link, uintptr_t w);
  // Frees the child block of the link word, if any (the word stays).
  void FreeLinkBlock();
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
// The word is kept in the node's NodeBytes record (its link word: no bytes
// in a leaf without an owner); a ChildList is a read-only view of one word
// (Node::children()), valid until the node's children or owner change.
// Iteration yields the child names. Insertion/removal are the tree's (the
// static mutators below change a word; the caller stores it back).
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
  explicit ChildList(uintptr_t w) : w_(w) {}

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

 private:
  friend class DataTree;
  friend class Node;
  friend class NodeBytes;
  struct Block {
    uint32_t size;
    uint32_t capacity;
    Node* base;         // the NodePool's slot 0: child = base + id (null until a child is added)
    int64_t aux;        // see aux()
    uint32_t items[1];  // really `capacity` entries
  };
  Block* block() const { return BlockOf(w_); }
  static bool AuxFitsWord(int64_t v) { return (static_cast<int64_t>(static_cast<uint64_t>(v) << 1) >> 1) == v; }
  // The mutators of a word `w` (the caller stores the new word back).
  // Sets the aux value, keeping the children.
  static void SetAux(uintptr_t& w, int64_t v);
  // Inserts `child` (a node of the pool whose slot 0 is `base`) at its
  // sorted place (no duplicate check); O(1) when it sorts last (sequential
  // names, snapshot load in pre-order).
  static void Insert(uintptr_t& w, Node* child, Node* base);
  // Removes the child named `name`; false if absent.
  static bool Erase(uintptr_t& w, std::string_view name);
  // Drops the children, keeps aux.
  static void Clear(uintptr_t& w);
  // Frees everything (aux becomes 0).
  static void Reset(uintptr_t& w);
  static void Reserve(uintptr_t& w, uint32_t capacity, Node* base);
  static Block* BlockOf(uintptr_t w) { return (w & 1) != 0 ? nullptr : reinterpret_cast<Block*>(w); }
  uintptr_t w_ = 0;
};

class Node {
 public:
  Node() = default;
  Node(const Node& o) : acl(o.acl), data(o.data), stat(o.stat), kind(o.kind), data_null(o.data_null) {
    set_ephemeral_owner(o.ephemeral_owner());
  }
  Node& operator=(const Node& o);

 private:
  // Lookup fields first (PathIs: the parent's pool id, then the name in
  // `data`): in the first 16 bytes. No path hash and no own pool id are
  // stored: the index keeps the hash, the pool derives the id from the
  // address. 32 bytes: the children and the ephemeral owner are the link
  // word of `data`'s record (none for a leaf without an owner); `stat` is
  // 14 bytes and [[no_unique_address]], so kind and data_null sit in its
  // tail padding
  // (assigning `stat` copies only its data, GCC's Itanium layout;
  // node_layout_test checks it).
  friend class DataTree;
  friend class PathIndex;
  friend class NodePool;
  uint32_t parent_ = 0;  // the parent's NodePool id; 0 for the root and for values

 public:
  AclCache::Ref acl = 0;
  NodeBytes data;  // also holds the children and ephemeral_owner (link word)
  [[no_unique_address]] NodeStat stat;
  NodeKind kind = NodeKind::kPersistent;
  bool data_null = false;  // data was set from a null buffer

  // The children, sorted by name (empty in a value copy): a view of the
  // link word, valid until they change.
  ChildList children() const { return ChildList(data.link()); }
  // The raw ephemeralOwner: the session (kEphemeral), kContainerOwner,
  // TtlOwner(ttl) or 0 (kept in the link word: no bytes in the node).
  int64_t ephemeral_owner() const { return children().aux(); }
  // `arena`: the tree's, for a node of a tree (its record may be rebuilt).
  void set_ephemeral_owner(int64_t owner, BytesArena* arena = nullptr) {
    uintptr_t w = data.link();
    ChildList::SetAux(w, owner);
    data.SetLink(arena, w);
  }
  // The full persisted stat (stat + ephemeral_owner) and its setter.
  StatPersisted persisted() const {
    StatPersisted s;
    s.czxid = stat.czxid();
    s.mzxid = stat.mzxid();
    s.ctime = stat.ctime();
    s.mtime = stat.mtime();
    s.ephemeral_owner = ephemeral_owner();
    s.pzxid = stat.pzxid();
    s.version = stat.version();
    s.cversion = stat.cversion();
    s.aversion = stat.aversion();
    return s;
  }
  void set_persisted(const StatPersisted& s, BytesArena* arena = nullptr) {
    stat.Assign(s.czxid, s.mzxid, s.ctime, s.mtime, s.pzxid, s.version, s.cversion, s.aversion);
    set_ephemeral_owner(s.ephemeral_owner, arena);
  }

  // kTtl only (0 otherwise): the TTL in ms, from ephemeralOwner.
  int64_t ttl_ms() const { return kind == NodeKind::kTtl ? ephemeral_owner() & kMaxTtlMs : 0; }
  // In a tree: the last path component ("" for the root and for values).
  std::string_view name() const { return data.name(); }
  // In a tree: the parent's id in its NodePool (DataTree::Parent), 0 for the root.
  uint32_t parent_id() const { return parent_; }
};

namespace detail {
// StatExtPool's slot 0 (node.cc): entry id is stat_ext_base[id]. Set once,
// before the first id is handed out; never moves.
extern StatExt* stat_ext_base;
}  // namespace detail
inline const StatExt& NodeStat::Ext() const { return detail::stat_ext_base[ext_]; }
inline StatExt& NodeStat::Extend() { return ext_ != 0 ? detail::stat_ext_base[ext_] : ExtendSlow(); }
inline void NodeStat::Prefetch() const {
  if (ext_ != 0) {
    const char* p = reinterpret_cast<const char*>(&Ext());
    __builtin_prefetch(p, 1);
    __builtin_prefetch(p + sizeof(StatExt) - 1, 1);
  }
}

inline const Node* ChildList::const_iterator::node() const { return base_ + *p_; }
inline std::string_view ChildList::const_iterator::operator*() const { return node()->name(); }

// The Stat a client sees for a node of `kind` with persisted stat `p`,
// `num_children` children and `data_length` bytes of data (DataNode.copyStat;
// also what a prepared change will give: txn::Preparer::StatAfterPrepared).
inline proto::Stat ToStat(const StatPersisted& p, NodeKind kind, int32_t num_children, int32_t data_length) {
  proto::Stat s;
  s.czxid = p.czxid;
  s.mzxid = p.mzxid;
  s.ctime = p.ctime;
  s.mtime = p.mtime;
  s.version = p.version;
  s.aversion = p.aversion;
  s.ephemeralOwner = kind == NodeKind::kEphemeral ? p.ephemeral_owner : 0;
  s.dataLength = data_length;
  s.numChildren = num_children;
  s.cversion = p.cversion * 2 - num_children;
  s.pzxid = p.pzxid;
  return s;
}

// The Stat a client sees for `n`.
inline proto::Stat ToStat(const Node& n) {
  return ToStat(n.persisted(), n.kind, static_cast<int32_t>(n.children().size()), static_cast<int32_t>(n.data.size()));
}

}  // namespace aviary::tree
