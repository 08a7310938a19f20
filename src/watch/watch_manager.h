// WatchManager: every watch the server holds, keyed by path and by watcher
// (the session id), with ZooKeeper 3.8's trigger rules.
//
// Model: ZooKeeper keeps two tables, data watches and child watches. Here one
// slot per (path, watcher) holds bits for both tables:
//   data table : one-shot data/exists watch, persistent, persistent-recursive
//   child table: one-shot child watch,       persistent, persistent-recursive
// addWatch puts a persistent (or recursive) watch in BOTH tables, exactly as
// ZooKeeper 3.8's DataTree.addWatch does; removeWatches with type Data or
// Children removes only that table's half (Any removes both).
//
// Trigger(path, type): the data table is triggered by NodeCreated,
// NodeDataChanged and NodeDeleted; the child table by NodeDeleted and
// NodeChildrenChanged. In a triggered table, a watch on exactly `path` fires
// (one-shot ones are then removed); recursive watches on `path` or any
// ancestor (up to "/") fire too, except for NodeChildrenChanged. A watcher
// gets at most one event per call. Events come out ordered by the watcher's
// first registration on the matching path (older first), ancestors included.
//
// Threading: none; used from the server's single core thread. No I/O.
// Bounds: at most max_per_session watches per session (0 = unlimited); a
// watch counts once per table it is in (so a persistent watch counts 2), the
// unit of ZooKeeper's watch_count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "proto/codes.h"

namespace aviary::watch {

struct Fired {
  int64_t watcher = 0;
  proto::EventType type = proto::EventType::kNone;
  std::string path;
  bool operator==(const Fired&) const = default;
};

class WatchManager {
 public:
  explicit WatchManager(size_t max_per_session = 0);

  // Register a watch. Idempotent. False only when the session's bound would
  // be exceeded (nothing is changed then).
  bool AddData(std::string_view path, int64_t w);                        // getData / exists
  bool AddChild(std::string_view path, int64_t w);                       // getChildren
  bool AddPersistent(std::string_view path, int64_t w, bool recursive);  // addWatch mode 0 / 1

  // Appends the events `type` on `path` fires to *out (see header comment)
  // and removes the one-shot watches it consumed. Types other than the four
  // node events fire nothing.
  void Trigger(std::string_view path, proto::EventType type, std::vector<Fired>* out);

  // removeWatches (dry_run = false) / checkWatches (dry_run = true).
  // Children and Data select that table (persistent and recursive watches are
  // in both), Any selects both. True iff w had a watch in a selected table on
  // exactly `path` (else the server answers NoWatcher); unless dry_run those
  // watches are gone afterwards. Unknown type values return false.
  // ZooKeeper's server sends no *WatchRemoved events (clients synthesise them
  // locally), so `removed_events` is never appended to; it exists for callers
  // written against the first draft of this API.
  bool Remove(std::string_view path, proto::WatcherType type, int64_t w, bool dry_run,
              std::vector<Fired>* removed_events = nullptr);
  bool Contains(std::string_view path, proto::WatcherType type, int64_t w) const;

  // Session closed: drops all its watches, O(its watches).
  void RemoveAll(int64_t w);

  // --- monitoring ---
  size_t watch_count() const { return watch_count_; }  // ZooKeeper's watch_count
  size_t path_count() const { return paths_.size(); }  // paths with any watch
  size_t session_count() const { return sessions_.size(); }
  size_t recursive_count() const { return recursive_count_; }
  size_t SessionWatchCount(int64_t w) const;
  // Paths (sorted) of w's watches, any table.
  std::vector<std::string> PathsOf(int64_t w) const;

  // Four-letter words, ZooKeeper 3.8 layout. Like 3.8 they cover the DATA
  // table only (persistent/recursive watches are in it). Paths and sessions
  // are sorted; session ids are printed as Long.toHexString. The 4lw command
  // appends one more "\n" (pw.println()) after these.
  // `name` maps a watcher id to the id printed (the server prints session
  // ids while watchers are connections); null prints watcher ids.
  using WatcherName = std::function<int64_t(int64_t)>;
  std::string DumpByPath(const WatcherName& name = nullptr) const;     // wchp: "path\n" then "\t0x<sid>\n" each
  std::string DumpBySession(const WatcherName& name = nullptr) const;  // wchc: "0x<sid>\n" then "\t<path>\n" each
  std::string DumpSummary() const;  // wchs: "<n> connections watching <m> paths\nTotal watches:<k>"

 private:
  struct StrHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Slot {
    uint8_t bits = 0;
    uint64_t seq = 0;  // first registration, for deterministic output order
  };
  struct PathEntry {
    std::unordered_map<int64_t, Slot> slots;
    std::unordered_set<int64_t> recursive;  // watchers whose slot has a recursive bit
  };
  using PathMap = std::unordered_map<std::string, PathEntry, StrHash, std::equal_to<>>;
  using Node = PathMap::value_type;
  struct SessionEntry {
    std::unordered_set<Node*> paths;
    size_t count = 0;  // table entries, the unit of the bound
  };
  struct Candidate {
    uint64_t seq;
    int64_t watcher;
  };

  bool AddBits(std::string_view path, int64_t w, uint8_t bits);
  // The single place that changes a slot: keeps counters and both indexes
  // right, erases empty slots/paths/sessions. `node` may be dangling after.
  void SetBits(Node* node, int64_t w, uint8_t bits);
  static void Collect(const PathEntry& e, int64_t w, uint8_t mask, std::vector<Candidate>* out);

  size_t max_per_session_;
  uint64_t next_seq_ = 0;
  size_t watch_count_ = 0;
  size_t recursive_count_ = 0;
  PathMap paths_;
  std::unordered_map<int64_t, SessionEntry> sessions_;
};

}  // namespace aviary::watch
