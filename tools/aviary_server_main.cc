// aviary-server: runs a standalone Aviary server from a zoo.cfg file.
//   aviary-server path/to/zoo.cfg
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>

#include "base/log.h"
#include "config/zoo_config.h"
#include "server/server.h"
#include "server/version.h"

namespace {

int Usage() {
  std::fprintf(stderr, "usage: aviary-server [--version] path/to/zoo.cfg\n");
  return 2;
}

aviary::log::Level ParseLevel(const std::string& s) {
  if (s == "debug") return aviary::log::kDebug;
  if (s == "warn") return aviary::log::kWarn;
  if (s == "error") return aviary::log::kError;
  return aviary::log::kInfo;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace aviary;
  if (argc == 2 && std::strcmp(argv[1], "--version") == 0) {
    std::printf("aviary-server %s (ZooKeeper protocol %s)\n", server::kAviaryVersion, server::kZooKeeperVersion);
    return 0;
  }
  if (argc != 2 || argv[1][0] == '-') return Usage();

  config::ServerConfig cfg;
  std::string error;
  if (!config::LoadZooConfig(argv[1], &cfg, &error)) {
    std::fprintf(stderr, "aviary-server: %s: %s\n", argv[1], error.c_str());
    return 1;
  }
  log::SetLevel(ParseLevel(cfg.log_level));
  for (const auto& w : cfg.warnings) AV_LOG(kWarn, "{}: {}", argv[1], w);

  server::ServerOptions opts;
  opts.core.server_id = cfg.server_id;
  opts.core.tick_ms = cfg.tick_time_ms;
  opts.core.min_session_timeout_ms = cfg.min_session_timeout_ms;
  opts.core.max_session_timeout_ms = cfg.max_session_timeout_ms;
  opts.core.max_buffer = static_cast<int32_t>(cfg.jute_max_buffer);
  opts.core.extended_types_enabled = cfg.extended_types_enabled;
  opts.core.super_digest = cfg.super_digest;
  opts.core.container_check_interval_ms = cfg.container_check_interval_ms;
  opts.core.max_sessions = static_cast<size_t>(cfg.max_sessions);
  opts.core.password_secret = std::random_device{}() * 0x100000001ull ^ std::random_device{}();
  opts.core.config = cfg;
  opts.net.bind_address = cfg.client_port_address.empty() ? "0.0.0.0" : cfg.client_port_address;
  opts.net.port = cfg.client_port;
  opts.net.max_per_ip = cfg.max_client_cnxns;
  opts.net.io_threads = cfg.io_threads;
  opts.global_outstanding_limit = cfg.global_outstanding_limit;
  opts.net.listen_backlog = cfg.client_port_listen_backlog;

  // Block the stop signals in every thread; the main thread waits for them.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);

  server::Server srv(opts);
  if (!srv.Start(&error)) {
    AV_LOG(kError, "cannot start: {}", error);
    return 1;
  }
  AV_LOG(kInfo, "aviary-server {} serving clients on {}:{} (standalone, in-memory; tickTime={} ms)",
         server::kAviaryVersion, opts.net.bind_address, srv.port(), cfg.tick_time_ms);
  int sig = 0;
  sigwait(&set, &sig);
  AV_LOG(kInfo, "signal {} received, shutting down", sig);
  srv.Stop();
  return 0;
}
