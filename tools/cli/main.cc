// aviary: a native ZooKeeper command-line client, compatible with zkCli.sh's
// commands, flags and output (docs/CLI.md).
//   aviary [-server host:port[,...][/chroot]] [-timeout ms] [-r]
//          [-waitforconnection] [-client-configuration file] [--json] [cmd args...]
// Without a command: interactive (on a terminal) or line-by-line from stdin.
// The -Dzookeeper.* flags of CLIENT_JVMFLAGS and JVMFLAGS (what zkCli.sh
// passes to its JVM) are read as client settings too, under the file's.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "client_config.h"
#include "config/jvm_flags.h"
#include "interactive.h"
#include "shell.h"

namespace aviary::cli {
namespace {

struct Options {
  std::string server = "localhost:2181";
  int64_t timeout_ms = 30000;
  bool read_only = false;
  bool json = false;
  client::ClientTlsOptions tls;  // -client-configuration: zookeeper.client.secure, zookeeper.ssl.*
  Args command;
};

// -client-configuration: refused (false, reason on stderr) when the file
// cannot be read or asks for SASL; TLS settings go to *tls; unused keys are
// warned about.
bool LoadClientConfiguration(const std::string& path, client::ClientTlsOptions* tls) {
  std::vector<std::pair<std::string, std::string>> props;
  std::vector<std::string> warnings;
  std::string error;
  if (!ReadProperties(path, &props, &error) || !CheckClientConfiguration(props, &error, &warnings, tls)) {
    std::fprintf(stderr, "Error: -client-configuration %s: %s\n", path.c_str(), error.c_str());
    return false;
  }
  for (const std::string& w : warnings) std::fprintf(stderr, "Warning: %s: %s\n", path.c_str(), w.c_str());
  return true;
}

// zkCli.sh runs its JVM with $CLIENT_JVMFLAGS $JVMFLAGS, and ZKClientConfig
// starts from the zookeeper.* system properties they set
// (zookeeper.client.secure, zookeeper.ssl.*), which a -client-configuration
// file then overrides: read them first, the same way. JVM flags are not
// warned about (most of them are the JVM's own); a SASL login asked for
// there is refused as in the file.
bool LoadJvmFlags(client::ClientTlsOptions* tls) {
  std::string flags;
  for (const char* name : {"CLIENT_JVMFLAGS", "JVMFLAGS"}) {
    if (const char* v = std::getenv(name); v != nullptr) flags += std::string(v) + "\n";
  }
  if (flags.empty()) return true;
  std::vector<std::string> ignored;
  std::string error;
  if (!CheckClientConfiguration(config::ZooKeeperPropertiesInFlags(flags), &error, &ignored, tls)) {
    std::fprintf(stderr, "Error: CLIENT_JVMFLAGS / JVMFLAGS: %s\n", error.c_str());
    return false;
  }
  return true;
}

// As ZooKeeperMain.parseOptions: options until the first non-option word,
// which starts the command. Returns false on a malformed option.
bool ParseMain(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    bool has_next = i + 1 < argc;
    if ((a == "-server" || a == "-timeout" || a == "-client-configuration") && !has_next) {
      std::fprintf(stderr, "Error: no argument found for option %s\n", a.c_str());
      return false;
    }
    if (a == "-server") {
      o->server = argv[++i];
    } else if (a == "-timeout") {
      if (!ParseInt(argv[++i], &o->timeout_ms) || o->timeout_ms <= 0) {
        std::fprintf(stderr, "Error: -timeout needs a positive number of milliseconds\n");
        return false;
      }
    } else if (a == "-r") {
      o->read_only = true;
    } else if (a == "-client-configuration") {
      if (!LoadClientConfiguration(argv[++i], &o->tls)) return false;
    } else if (a == "-waitforconnection") {
      // Always waited for: the first command runs only once connected.
    } else if (a == "--json") {
      o->json = true;
    } else if (a == "-h" || a == "--help") {
      o->command = {"help"};
      return true;
    } else if (!a.empty() && a[0] != '-') {
      for (int k = i; k < argc; k++) o->command.emplace_back(argv[k]);
      return true;
    } else {
      std::fprintf(stderr, "Error: unknown option %s\n", a.c_str());
      return false;
    }
  }
  return true;
}

int Main(int argc, char** argv) {
  Options o;
  if (!LoadJvmFlags(&o.tls) || !ParseMain(argc, argv, &o)) return 2;
  if (TakeFlag(&o.command, "--json")) o.json = true;
  Context ctx;
  ctx.json = o.json;
  ctx.session_opts.session_timeout_ms = static_cast<int>(o.timeout_ms);
  ctx.session_opts.read_only = o.read_only;
  ctx.session_opts.tls = o.tls;
  Shell shell(ctx);
  if (!o.command.empty()) {
    shell.print_state_events = false;
    bool local = o.command[0] == "help" || o.command[0] == "version";
    if (!local && !shell.Connect(o.server, /*quiet=*/false)) {
      if (ctx.json) Fail(ctx, "Unable to connect to " + o.server, proto::Err::kConnectionLoss);
      return kFailed;
    }
    int rc = shell.Run(o.command);
    if (shell.session() && shell.session()->alive()) shell.session()->Close();
    return rc;
  }
  std::printf("Connecting to %s\n", o.server.c_str());
  std::fflush(stdout);
  shell.Connect(o.server, /*quiet=*/false);
  return RunInteractive(shell);
}

}  // namespace
}  // namespace aviary::cli

int main(int argc, char** argv) { return aviary::cli::Main(argc, argv); }
