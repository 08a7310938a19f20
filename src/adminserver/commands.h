// The AdminServer's command table (ZooKeeper's admin/Commands.java, 3.9):
// each command's primary name, its aliases, whether it needs a serving
// server, and the permission a caller must hold on a path (ZooKeeper's
// AuthRequest; only snapshot and restore carry one in 3.9).
//
// Owns: a static table, looked up by any name. No I/O, no server state.
// Thread use: pure functions over constant data.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace aviary::adminserver {

enum class CommandId : uint8_t {
  kConnectionStatReset,
  kConfiguration,
  kConnections,
  kDirs,
  kDump,
  kEnvironment,
  kHash,
  kGetTraceMask,
  kInitialConfiguration,
  kIsReadOnly,
  kLastSnapshot,
  kLeader,
  kMonitor,
  kObserverConnectionStatReset,
  kRestore,
  kRuok,
  kSnapshot,
  kServerStats,
  kStats,
  kStatReset,
  kVotingView,
  kWatches,
  kWatchesByPath,
  kWatchSummary,
  kZabState,
};

struct CommandSpec {
  CommandId id;
  std::string_view primary;
  std::vector<std::string_view> names;  // every name it answers to, the primary first
  bool server_required = true;          // answered "not currently serving" while the server is not
  bool post = false;                    // a PostCommand (restore): GET is not served
  int32_t auth_perm = 0;                // 0: no authentication; else ZooDefs.Perms bits needed on auth_path
  std::string_view auth_path;
};

// The command answering to `name` (any alias), or null.
const CommandSpec* FindCommand(std::string_view name);

// Every primary name, sorted (the /commands listing).
std::vector<std::string> PrimaryNames();

}  // namespace aviary::adminserver
