#include "client/connect_string.h"

#include <charconv>

namespace aviary::client {

std::string HostPort::ToString() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

namespace {

bool ParsePort(std::string_view s, int* port) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < 1 || v > 65535) return false;
  *port = v;
  return true;
}

bool ParseHost(std::string_view item, HostPort* out, std::string* error) {
  std::string_view host = item, port;
  if (!item.empty() && item.front() == '[') {
    size_t close = item.find(']');
    if (close == std::string_view::npos) {
      *error = "unterminated IPv6 address: " + std::string(item);
      return false;
    }
    host = item.substr(1, close - 1);
    std::string_view rest = item.substr(close + 1);
    if (!rest.empty() && rest.front() == ':') port = rest.substr(1);
  } else if (size_t colon = item.rfind(':'); colon != std::string_view::npos) {
    host = item.substr(0, colon);
    port = item.substr(colon + 1);
  }
  if (host.empty()) {
    *error = "empty host in connect string";
    return false;
  }
  out->host = std::string(host);
  out->port = 2181;
  if (!port.empty() && !ParsePort(port, &out->port)) {
    *error = "invalid port in connect string: " + std::string(item);
    return false;
  }
  return true;
}

}  // namespace

std::optional<ConnectString> ParseConnectString(std::string_view s, std::string* error) {
  ConnectString cs;
  size_t slash = s.find('/');
  if (slash != std::string_view::npos) {
    std::string chroot(s.substr(slash));
    while (chroot.size() > 1 && chroot.back() == '/') chroot.pop_back();
    if (chroot != "/") {
      if (std::string why = ValidatePath(chroot); !why.empty()) {
        *error = "invalid chroot: " + why;
        return std::nullopt;
      }
      cs.chroot = chroot;
    }
    s = s.substr(0, slash);
  }
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    s = comma == std::string_view::npos ? std::string_view() : s.substr(comma + 1);
    if (item.empty()) continue;
    HostPort hp;
    if (!ParseHost(item, &hp, error)) return std::nullopt;
    cs.hosts.push_back(std::move(hp));
  }
  if (cs.hosts.empty()) {
    *error = "no host in connect string";
    return std::nullopt;
  }
  return cs;
}

std::string AddChroot(const std::string& chroot, const std::string& path) {
  if (chroot.empty()) return path;
  if (path == "/") return chroot;
  return chroot + path;
}

std::string StripChroot(const std::string& chroot, const std::string& path) {
  if (chroot.empty() || path.compare(0, chroot.size(), chroot) != 0) return path;
  if (path.size() == chroot.size()) return "/";
  if (path[chroot.size()] != '/') return path;
  return path.substr(chroot.size());
}

std::string ValidatePath(std::string_view path, bool sequential) {
  if (path.empty()) return "Path length must be > 0";
  if (path.front() != '/') return "Path must start with / character";
  if (path.size() == 1) return "";
  if (path.back() == '/' && !sequential) return "Path must not end with / character";
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    bool last = end == path.size();
    if (seg.empty() && !(last && sequential)) return "empty node name specified @" + std::to_string(start);
    if (seg == "." || seg == "..") return "relative paths not allowed @" + std::to_string(start);
    if (seg.find('\0') != std::string_view::npos) return "null character not allowed @" + std::to_string(start);
    start = end + 1;
  }
  return "";
}

}  // namespace aviary::client
