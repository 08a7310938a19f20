// Loading an Apache ZooKeeper data directory and converting it to Aviary's
// data files (`aviary-dump import`, docs/OPERATIONS.md).
//
// LoadZooKeeper does what a ZooKeeper server does at start
// (FileTxnSnapLog.restore, ZooKeeperServer.loadData): the newest snapshot
// that reads and checks (older ones if it does not), then every logged txn
// after its zxid from the log files that cover them, replayed as over a
// fuzzy snapshot (storage::ReplayTxn), sessions from the snapshot plus
// createSession minus closeSession; last, the ephemerals of sessions that
// are not live are deleted at the last zxid, as ZooKeeper's loadData kills
// dead sessions. zxids must follow each other (+1, or the start of a higher
// epoch); a gap is an error. A torn tail is a warning (ZooKeeper stops there
// too). Without any snapshot the logs must start an epoch (counter 1).
//
// ImportZooKeeper then writes an Aviary snapshot of the loaded state at the
// last zxid and a log segment holding the txns replayed after the
// ZooKeeper snapshot (history for `aviary-dump log`; recovery needs only
// the snapshot), and copies ZooKeeper's acceptedEpoch / currentEpoch files
// when there are any (storage/epoch_file.h: the same files). The target
// directories must hold no Aviary data files.
// Single-threaded; reads and writes files.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tree/data_tree.h"
#include "txn/txn.h"

namespace aviary::zkformat {

struct ZkLoaded {
  int64_t snapshot_zxid = -1;  // -1: no snapshot (logs from the start)
  std::string snapshot_path;
  int64_t last_zxid = 0;
  std::map<int64_t, int32_t> sessions;  // id -> timeout ms
  std::vector<txn::Txn> txns;           // replayed after the snapshot, in order
  std::vector<std::string> warnings;
  size_t dead_ephemerals = 0;  // deleted because their session is not live
};

// snap_dir = ZooKeeper's dataDir, log_dir = its dataLogDir (either may also
// be the version-2 directory itself). `tree` must be freshly constructed.
bool LoadZooKeeper(const std::string& snap_dir, const std::string& log_dir, tree::DataTree* tree, ZkLoaded* out,
                   std::string* error);

struct ImportOptions {
  std::string zk_data_dir;
  std::string zk_log_dir;  // empty: zk_data_dir
  std::string data_dir;    // Aviary dataDir
  std::string log_dir;     // Aviary dataLogDir; empty: data_dir
};

struct ImportResult {
  ZkLoaded loaded;
  size_t nodes = 0;
  std::string snapshot_path;  // the Aviary snapshot written
};

bool ImportZooKeeper(const ImportOptions& opts, ImportResult* out, std::string* error);

// "dir" if it is a version-2 directory, else dir + "/version-2".
std::string ZkVersionDir(const std::string& dir);

}  // namespace aviary::zkformat
