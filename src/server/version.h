// Version strings. Aviary reports a ZooKeeper-style version so that clients
// that parse it (kazoo reads `envi`) enable the 3.8 protocol features.
#pragma once

namespace aviary::server {
inline constexpr const char* kAviaryVersion = "0.1.0";
inline constexpr const char* kZooKeeperVersion = "3.8.0";
}  // namespace aviary::server
