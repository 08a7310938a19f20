// WatchManager: every watch the server holds, keyed by path and by watcher
// (the connection id), with ZooKeeper 3.9's trigger and removal rules.
//
// Model: ZooKeeper keeps two tables, data watches and child watches, and per
// (table, path, watcher) a set of modes. Here one slot per (path, watcher)
// holds bits for both tables:
//   data table : one-shot data/exists watch, persistent, persistent-recursive
//   child table: one-shot child watch,       persistent
// addWatch puts a persistent watch in BOTH tables and a recursive one in the
// data table only, as ZooKeeper 3.9's DataTree.addWatch does.
//
// Trigger(path, type): the data table is triggered by NodeCreated,
// NodeDataChanged and NodeDeleted; the child table by NodeDeleted and
// NodeChildrenChanged. In a triggered table, a watch on exactly `path` fires
// (one-shot ones are then removed); recursive watches on an ancestor (up to
// "/") fire too. A watcher gets at most one event per call. Events come out
// ordered by the watcher's first registration on the matching path (older
// first), ancestors included. Whether the watcher may see the event (READ on
// the node) is the caller's check.
//
// Remove/Contains by WatcherType (ZooKeeper 3.9 DataTree.removeWatch /
// containsWatcher): Children (1) and Data (2) name only the one-shot watch of
// that table; Persistent (4) the persistent watch (both tables);
// PersistentRecursive (5) the recursive watch; Any (3) every watch of the
// watcher on the path.
//
// Threading: none; used from the server's single core thread. No I/O.
// Bounds (0 = unlimited), per watcher: `max_watches` table entries (a watch
// counts once per table it is in, the unit of ZooKeeper's watch_count, so a
// persistent watch counts 2 and the modes sharing a table share its entry),
// and `max_path_bytes`: the sum of the path lengths of its slots. Together
// they bound the memory one watcher can make the manager hold.
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

struct WatchLimits {
  size_t max_watches = 0;     // table entries per watcher; 0 = unlimited
  size_t max_path_bytes = 0;  // path bytes of a watcher's slots; 0 = unlimited
};

class WatchManager {
 public:
  explicit WatchManager(WatchLimits limits = {});

  // Register a watch. Idempotent. False only when the watcher's bounds would
  // be exceeded (nothing is changed then).
  bool AddData(std::string_view path, int64_t w);                        // getData / exists
  bool AddChild(std::string_view path, int64_t w);                       // getChildren
  bool AddPersistent(std::string_view path, int64_t w, bool recursive);  // addWatch mode 0 / 1

  // Appends the events `type` on `path` fires to *out (see header comment)
  // and removes the one-shot watches it consumed. Types other than the four
  // node events fire nothing.
  void Trigger(std::string_view path, proto::EventType type, std::vector<Fired>* out);

  // True if w could add `entries` more table entries on new paths whose
  // lengths sum to `path_bytes` (an upper bound for a batch of adds, e.g.
  // setWatches: after a true answer none of those adds can fail).
  bool Fits(int64_t w, size_t entries, size_t path_bytes) const;

  // removeWatches (dry_run = false) / checkWatches (dry_run = true), with the
  // WatcherType rules in the header comment. True iff w had a matching watch
  // on exactly `path` (else the server answers NoWatcher); unless dry_run it
  // is gone afterwards. Unknown type values return false.
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
  // Whether a change of `path`'s data could fire a watch: a watch of any
  // kind on the path itself, or a recursive one on an ancestor (cheap: one
  // lookup, the ancestors only while recursive watches exist).
  bool MayFireOnData(std::string_view path) const;
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
    size_t count = 0;       // table entries, the unit of the bound
    size_t path_bytes = 0;  // sum of the path lengths of `paths`
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

  WatchLimits limits_;
  uint64_t next_seq_ = 0;
  size_t watch_count_ = 0;
  size_t recursive_count_ = 0;
  PathMap paths_;
  std::unordered_map<int64_t, SessionEntry> sessions_;
};

}  // namespace aviary::watch
