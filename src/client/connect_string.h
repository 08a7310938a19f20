// Connect strings as ZooKeeper clients take them: "host:port[,host:port...][/chroot]",
// hosts as names, IPv4 or bracketed IPv6 ("[::1]:2181"), port 2181 when absent.
// Also the chroot mapping of paths between the application and the server.
// Pure functions, no I/O, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aviary::client {

struct HostPort {
  std::string host;
  int port = 2181;
  std::string ToString() const;
};

struct ConnectString {
  std::vector<HostPort> hosts;
  std::string chroot;  // "" or an absolute path without a trailing '/'
};

// nullopt (and *error set) when the string is empty, a port is not a
// number in 1..65535, or the chroot is not a valid absolute path.
std::optional<ConnectString> ParseConnectString(std::string_view s, std::string* error);

// "/a" + "/b" -> "/a/b"; "/a" + "/" -> "/a". No chroot: path unchanged.
std::string AddChroot(const std::string& chroot, const std::string& path);
// Inverse of AddChroot for paths the server sends back; a path outside the
// chroot is returned unchanged.
std::string StripChroot(const std::string& chroot, const std::string& path);

// ZooKeeper's client-side path rules (PathUtils.validatePath): absolute, no
// empty segment, no trailing '/', no "." or ".." segment, no NUL. `sequential`
// allows a trailing '/' (the server appends the counter). "" when valid,
// otherwise ZooKeeper's message text.
std::string ValidatePath(std::string_view path, bool sequential = false);

}  // namespace aviary::client
