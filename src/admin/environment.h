// Version string and the envi entry list, in ZooKeeper's EnvCommand order.
//
// Owns: the version Aviary reports to clients. The version starts with the
// ZooKeeper release it is compatible with, so clients that parse it (kazoo's
// server_version() reads the leading digits and dots of zookeeper.version)
// see 3.8.0.
// Thread use: FullVersion is pure; BuildEnvironment reads process state
// (uname, hostname, passwd entry, cwd, memory) and is safe to call anywhere.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aviary::admin {

inline constexpr std::string_view kZooKeeperCompatVersion = "3.8.0";
inline constexpr std::string_view kAviaryVersion = "0.1.0";

// "3.8.0-aviary-0.1.0, built on 2026-11-22 01:05 UTC" (build time of this file).
std::string FullVersion();

// zookeeper.version, host.name, java.* (always "<NA>": there is no JVM),
// os.name/arch/version, user.name/home/dir, os.memory.free/max/total ("<n>MB").
std::vector<std::pair<std::string, std::string>> BuildEnvironment(const std::string& full_version);

}  // namespace aviary::admin
