// aviary-dump import: an Apache ZooKeeper dataDir (newest valid snapshot +
// the txn logs after it) converted to Aviary's data files
// (zkformat/import.h, docs/OPERATIONS.md "Importing from ZooKeeper").
#include <cstdio>

#include "commands.h"
#include "zkformat/import.h"

namespace aviary::dump {

int CmdImport(const Args& a) {
  if (a.positional.size() != 2) {
    std::fprintf(stderr,
                 "usage: aviary-dump import ZK_DATADIR AVIARY_DATADIR [--zk-log-dir ZK_DATALOGDIR] "
                 "[--log-dir AVIARY_DATALOGDIR]\n");
    return 2;
  }
  zkformat::ImportOptions o;
  o.zk_data_dir = a.positional[0];
  o.zk_log_dir = a.Get("--zk-log-dir");
  o.data_dir = a.positional[1];
  o.log_dir = a.Get("--log-dir");
  zkformat::ImportResult r;
  std::string error;
  bool ok = zkformat::ImportZooKeeper(o, &r, &error);
  for (const std::string& w : r.loaded.warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
  if (!ok) {
    std::fprintf(stderr, "aviary-dump import: %s\n", error.c_str());
    return 1;
  }
  const zkformat::ZkLoaded& l = r.loaded;
  std::printf("zookeeper snapshot: %s (zxid 0x%llx)\n", l.snapshot_path.empty() ? "none" : l.snapshot_path.c_str(),
              static_cast<unsigned long long>(l.snapshot_zxid < 0 ? 0 : l.snapshot_zxid));
  std::printf("txns replayed: %zu, last zxid 0x%llx\n", l.txns.size(), static_cast<unsigned long long>(l.last_zxid));
  std::printf("nodes: %zu, sessions: %zu\n", r.nodes, l.sessions.size());
  std::printf("wrote %s\n", r.snapshot_path.c_str());
  return 0;
}

}  // namespace aviary::dump
