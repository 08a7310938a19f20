// aviary-dump: inspect, verify, back up and restore Aviary data and log
// directories (docs/OPERATIONS.md, "Durability, backup and restore").
#include <cstdio>
#include <cstring>
#include <string>

#include "commands.h"
#include "files.h"

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  aviary-dump list DIR...                      segments and snapshots: zxid ranges, sizes\n"
    "  aviary-dump log FILE [--json]                one line per txn of a log segment\n"
    "  aviary-dump snapshot FILE [--json]           header, sessions and nodes of a snapshot\n"
    "  aviary-dump verify DIR...                    check every checksum (exit 1 on corruption)\n"
    "  aviary-dump digest --data-dir D [--log-dir L] [--upto ZXID]\n"
    "                                               recover in memory; print last zxid and tree digest\n"
    "  aviary-dump backup --data-dir D [--log-dir L] --out BACKUPDIR\n"
    "                                               consistent copy of a (running) server's files\n"
    "  aviary-dump restore BACKUPDIR --data-dir EMPTY [--log-dir EMPTY]\n"
    "  aviary-dump import ZK_DATADIR AVIARY_DATADIR [--zk-log-dir ZK_LOGDIR] [--log-dir AVIARY_LOGDIR]\n"
    "                                               Apache ZooKeeper snapshot + logs -> Aviary data files\n";

bool TakesValue(const std::string& opt) {
  return opt == "--data-dir" || opt == "--log-dir" || opt == "--upto" || opt == "--out" || opt == "--zk-log-dir";
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aviary::dump;
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  Args a;
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--json") {
      a.json = true;
    } else if (TakesValue(s)) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "aviary-dump: %s needs a value\n", s.c_str());
        return 2;
      }
      a.options[s] = argv[++i];
    } else if (s.size() > 1 && s[0] == '-') {
      std::fprintf(stderr, "aviary-dump: unknown option %s\n%s", s.c_str(), kUsage);
      return 2;
    } else {
      a.positional.push_back(s);
    }
  }
  if (cmd == "list") return CmdList(a);
  if (cmd == "log") return CmdLog(a);
  if (cmd == "snapshot") return CmdSnapshot(a);
  if (cmd == "verify") return CmdVerify(a);
  if (cmd == "digest") return CmdDigest(a);
  if (cmd == "backup") return CmdBackup(a);
  if (cmd == "restore") return CmdRestore(a);
  if (cmd == "import") return CmdImport(a);
  std::fprintf(stderr, "aviary-dump: unknown command %s\n%s", cmd.c_str(), kUsage);
  return 2;
}
