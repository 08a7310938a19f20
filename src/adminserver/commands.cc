#include "adminserver/commands.h"

#include <algorithm>

namespace aviary::adminserver {
namespace {

constexpr int32_t kPermAll = 31;  // ZooDefs.Perms.ALL

CommandSpec Spec(CommandId id, std::vector<std::string_view> names, bool server_required = true, bool post = false,
                 int32_t perm = 0) {
  CommandSpec c{id, names.front(), std::move(names), server_required, post, perm, perm != 0 ? "/" : ""};
  return c;
}

const std::vector<CommandSpec>& Table() {
  static const std::vector<CommandSpec> kTable = {
      Spec(CommandId::kConnectionStatReset, {"connection_stat_reset", "crst"}),
      Spec(CommandId::kConfiguration, {"configuration", "conf", "config"}),
      Spec(CommandId::kConnections, {"connections", "cons"}),
      Spec(CommandId::kDirs, {"dirs"}),
      Spec(CommandId::kDump, {"dump"}),
      Spec(CommandId::kEnvironment, {"environment", "env", "envi"}, false),
      Spec(CommandId::kHash, {"hash"}),
      Spec(CommandId::kGetTraceMask, {"get_trace_mask", "gtmk"}, false),
      Spec(CommandId::kInitialConfiguration, {"initial_configuration", "icfg"}),
      Spec(CommandId::kIsReadOnly, {"is_read_only", "isro"}),
      Spec(CommandId::kLastSnapshot, {"last_snapshot", "lsnp"}),
      Spec(CommandId::kLeader, {"leader", "lead"}),
      Spec(CommandId::kMonitor, {"monitor", "mntr"}, false),
      Spec(CommandId::kObserverConnectionStatReset, {"observer_connection_stat_reset", "orst"}),
      Spec(CommandId::kRestore, {"restore", "rest"}, true, true, kPermAll),
      Spec(CommandId::kRuok, {"ruok"}),
      Spec(CommandId::kSnapshot, {"snapshot", "snap"}, true, false, kPermAll),
      Spec(CommandId::kServerStats, {"server_stats", "srvr"}),
      Spec(CommandId::kStats, {"stats", "stat"}),
      Spec(CommandId::kStatReset, {"stat_reset", "srst"}),
      Spec(CommandId::kVotingView, {"voting_view"}),
      Spec(CommandId::kWatches, {"watches", "wchc"}),
      Spec(CommandId::kWatchesByPath, {"watches_by_path", "wchp"}),
      Spec(CommandId::kWatchSummary, {"watch_summary", "wchs"}),
      Spec(CommandId::kZabState, {"zabstate"}, false),
  };
  return kTable;
}

}  // namespace

const CommandSpec* FindCommand(std::string_view name) {
  for (const CommandSpec& c : Table()) {
    if (std::find(c.names.begin(), c.names.end(), name) != c.names.end()) return &c;
  }
  return nullptr;
}

std::vector<std::string> PrimaryNames() {
  std::vector<std::string> out;
  for (const CommandSpec& c : Table()) out.emplace_back(c.primary);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace aviary::adminserver
