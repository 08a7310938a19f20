// Settings of the server core, derived from the zoo.cfg ServerConfig.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/zoo_config.h"

namespace aviary::server {

struct CoreOptions {
  int64_t server_id = 0;
  int32_t tick_ms = 3000;
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 60000;
  int32_t max_buffer = 0xfffff;
  bool extended_types_enabled = false;
  std::string super_digest;
  int64_t container_check_interval_ms = 60000;
  size_t max_sessions = 1000000;
  size_t max_watches_per_session = 0;  // 0 = unlimited
  // snapCount: a fuzzy snapshot starts after snap_count/2 + rand(snap_count/2)
  // txns (as ZooKeeper, so servers do not snapshot together); 0 = never.
  int64_t snap_count = 0;
  size_t snapshot_nodes_per_step = 20000;  // tree slice serialised per core pass (fallback path)
  bool fork_snapshots = true;              // write snapshots from a forked child (see Snapshotter)
  int64_t purge_interval_ms = 0;           // autopurge.purgeInterval; 0 = off
  uint64_t password_secret = 0;
  // The whole configuration, for the four-letter words (conf, envi, ...).
  config::ServerConfig config;
};

}  // namespace aviary::server
