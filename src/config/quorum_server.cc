// server.N line parsing and myid handling (declared in zoo_config.h).
#include <fmt/core.h>

#include <optional>

#include "config/config_values.h"
#include "config/zoo_config.h"

namespace aviary::config {
namespace {

using detail::Trim;

constexpr std::string_view kForm = "expected host:peerPort:electionPort[:participant|:observer][;[host:]clientPort]";
constexpr size_t kMaxAddressesPerServer = 16;

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
  // As Java's String.split: trailing empty parts are dropped.
  while (parts.size() > 1 && parts.back().empty()) parts.pop_back();
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

// One '|'-separated part: host:peerPort:electionPort[:type].
bool ParseAddress(std::string_view key, std::string_view value, std::string_view part, QuorumAddress* addr,
                  std::optional<PeerType>* type, std::string* error) {
  auto bad = [&](std::string_view why) { return detail::Invalid(key, value, why, error); };
  std::vector<std::string_view> sp = HostAndPorts(Trim(part));
  if (sp.size() < 3 || sp.size() > 4 || sp[0].empty()) return bad(kForm);
  addr->host = std::string(sp[0]);
  if (!detail::PortValue(key, sp[1], false, &addr->peer_port, error) ||
      !detail::PortValue(key, sp[2], false, &addr->election_port, error)) {
    return bad(fmt::format("'{}' and '{}' must be port numbers 1-65535", sp[1], sp[2]));
  }
  if (addr->peer_port == addr->election_port) return bad("peer port and election port must be different");
  if (sp.size() == 4) {
    std::string_view t = Trim(sp[3]);
    PeerType pt;
    if (LowerEquals(t, "observer")) {
      pt = PeerType::kObserver;
    } else if (LowerEquals(t, "participant")) {
      pt = PeerType::kParticipant;
    } else {
      return bad(fmt::format("unrecognised peer type '{}', expected participant or observer", t));
    }
    if (type->has_value() && **type != pt) return bad("multiple addresses should have similar roles");
    *type = pt;
  }
  return true;
}

bool ParseClientPart(std::string_view key, std::string_view value, std::string_view client_part, QuorumServerSpec* out,
                     std::string* error) {
  auto bad = [&](std::string_view why) { return detail::Invalid(key, value, why, error); };
  std::vector<std::string_view> cp = HostAndPorts(Trim(client_part));
  if (cp.empty() || cp.size() > 2) return bad(kForm);
  out->client_host = cp.size() == 2 ? std::string(cp[0]) : "0.0.0.0";
  if (!detail::PortValue(key, cp.back(), false, &out->client_port, error)) {
    return bad(fmt::format("client port '{}' must be a port number 1-65535", cp.back()));
  }
  return true;
}

}  // namespace

bool ParseQuorumServer(int64_t id, std::string_view value, QuorumServerSpec* out, std::string* error,
                       bool multi_address_enabled) {
  std::string key = fmt::format("server.{}", id);
  *out = QuorumServerSpec{};
  out->id = id;
  size_t semi = value.find(';');
  std::string_view server_part = value.substr(0, semi);
  if (semi != std::string_view::npos) {
    std::string_view client_part = value.substr(semi + 1);
    if (client_part.find(';') != std::string_view::npos) return detail::Invalid(key, value, kForm, error);
    if (!ParseClientPart(key, value, client_part, out, error)) return false;
  }
  std::vector<std::string_view> parts;
  for (size_t bar; (bar = server_part.find('|')) != std::string_view::npos; server_part.remove_prefix(bar + 1)) {
    parts.push_back(server_part.substr(0, bar));
  }
  parts.push_back(server_part);
  if (parts.size() > 1 && !multi_address_enabled) {
    return detail::Invalid(key, value,
                           "multiple addresses per server need multiAddress.enabled=true (ZooKeeper: \"Multiple "
                           "address feature is disabled\")",
                           error);
  }
  if (parts.size() > kMaxAddressesPerServer) return detail::Invalid(key, value, "too many addresses", error);
  std::optional<PeerType> type;
  for (std::string_view part : parts) {
    QuorumAddress addr;
    if (!ParseAddress(key, value, part, &addr, &type, error)) return false;
    out->addresses.push_back(std::move(addr));
  }
  out->type = type.value_or(PeerType::kParticipant);
  out->host = out->addresses.front().host;
  out->peer_port = out->addresses.front().peer_port;
  out->election_port = out->addresses.front().election_port;
  return true;
}

bool ConfigVersionFromFileName(std::string_view path, int64_t* version) {
  const size_t dot = path.rfind('.');
  if (dot == std::string_view::npos) return false;
  return detail::ParseHexInt64(path.substr(dot + 1), version);
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
    const std::string& addr = cfg->client_port_address;
    if (!addr.empty() && addr != "0.0.0.0" && addr != "::" && addr != s.client_host) {
      *error = fmt::format("client address for this server (id = {}) is {} in clientPortAddress but {} in server.{}",
                           id, addr, s.client_host, id);
      return false;
    }
    cfg->client_port = s.client_port;
    if (s.client_host != "0.0.0.0") cfg->client_port_address = s.client_host;
  }
  return true;
}

}  // namespace aviary::config
