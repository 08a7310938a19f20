// server.N line parsing and myid handling (declared in zoo_config.h).
#include <fmt/core.h>

#include "config/config_values.h"
#include "config/zoo_config.h"

namespace aviary::config {
namespace {

using detail::Trim;

// Splits "host:a:b", "[v6addr]:a:b" into host and the ':'-separated rest,
// like ZooKeeper's ConfigUtils.getHostAndPort.
std::vector<std::string_view> HostAndPorts(std::string_view s) {
  std::vector<std::string_view> parts;
  if (!s.empty() && s[0] == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos) return {};
    parts.push_back(s.substr(1, close - 1));
    s.remove_prefix(close + 1);
    if (s.empty()) return parts;
    if (s[0] != ':') return {};
    s.remove_prefix(1);
  }
  while (parts.size() < 16) {
    size_t colon = s.find(':');
    parts.push_back(s.substr(0, colon));
    if (colon == std::string_view::npos) break;
    s.remove_prefix(colon + 1);
  }
  return parts;
}

bool LowerEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char c = a[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != b[i]) return false;
  }
  return true;
}

}  // namespace

bool ParseQuorumServer(int64_t id, std::string_view value, QuorumServerSpec* out, std::string* error) {
  std::string key = fmt::format("server.{}", id);
  auto bad = [&](std::string_view why) { return detail::Invalid(key, value, why, error); };
  constexpr std::string_view kForm = "expected host:peerPort:electionPort[:participant|:observer][;[host:]clientPort]";
  *out = QuorumServerSpec{};
  out->id = id;

  size_t semi = value.find(';');
  std::string_view server_part = value.substr(0, semi);
  std::string_view client_part;
  if (semi != std::string_view::npos) {
    client_part = value.substr(semi + 1);
    if (client_part.find(';') != std::string_view::npos) return bad(kForm);
  }
  if (server_part.find('|') != std::string_view::npos) {
    return bad("multiple addresses per server are not supported");
  }
  std::vector<std::string_view> sp = HostAndPorts(Trim(server_part));
  if (sp.size() < 3 || sp.size() > 4 || sp[0].empty()) return bad(kForm);
  out->host = std::string(sp[0]);
  if (!detail::PortValue(key, sp[1], false, &out->peer_port, error) ||
      !detail::PortValue(key, sp[2], false, &out->election_port, error)) {
    return bad(fmt::format("'{}' and '{}' must be port numbers 1-65535", sp[1], sp[2]));
  }
  if (out->peer_port == out->election_port) return bad("peer port and election port must be different");
  if (sp.size() == 4) {
    std::string_view t = Trim(sp[3]);
    if (LowerEquals(t, "observer")) {
      out->type = PeerType::kObserver;
    } else if (LowerEquals(t, "participant")) {
      out->type = PeerType::kParticipant;
    } else {
      return bad(fmt::format("unrecognised peer type '{}', expected participant or observer", t));
    }
  }
  if (semi != std::string_view::npos) {
    std::vector<std::string_view> cp = HostAndPorts(Trim(client_part));
    if (cp.empty() || cp.size() > 2) return bad(kForm);
    out->client_host = cp.size() == 2 ? std::string(cp[0]) : "0.0.0.0";
    if (!detail::PortValue(key, cp.back(), false, &out->client_port, error)) {
      return bad(fmt::format("client port '{}' must be a port number 1-65535", cp.back()));
    }
  }
  return true;
}

bool ApplyMyId(std::string_view myid_text, ServerConfig* cfg, std::string* error) {
  std::string_view first = myid_text.substr(0, myid_text.find_first_of("\r\n"));
  first = Trim(first);
  int64_t id = 0;
  if (!detail::ParseInt64(first, 0, INT64_MAX, &id)) {
    return detail::Invalid("myid", first, "expected a non-negative integer server id", error);
  }
  cfg->server_id = id;
  cfg->has_myid = true;
  for (const QuorumServerSpec& s : cfg->servers) {
    if (s.id != id || s.client_port == 0) continue;
    // As ZooKeeper: the client address in this server's own line wins, but
    // it must agree with an explicitly configured clientPort.
    if (cfg->client_port_set && cfg->client_port != s.client_port) {
      *error = fmt::format("client port for this server (id = {}) is {} in clientPort but {} in server.{}", id,
                           cfg->client_port, s.client_port, id);
      return false;
    }
    cfg->client_port = s.client_port;
    if (s.client_host != "0.0.0.0") cfg->client_port_address = s.client_host;
  }
  return true;
}

}  // namespace aviary::config
