#include "admin/four_letter.h"

#include <fmt/core.h>

#include <array>

#include "admin/java_format.h"

namespace aviary::admin {
namespace {

constexpr std::string_view kNotServing = "This ZooKeeper instance is not currently serving requests\n";

constexpr std::array<std::string_view, 10> kImplemented = {"ruok", "srvr", "stat", "envi", "conf",
                                                           "cons", "mntr", "wchs", "isro", "dirs"};

std::string RenderStat(const ServerSnapshot& s, bool with_clients) {
  std::string out = fmt::format("Zookeeper version: {}\n", s.full_version);
  if (s.read_only) out += "READ-ONLY mode; serving only read-only clients\n";
  if (with_clients) {
    out += "Clients:\n";
    for (const ConnectionInfo& c : s.connections) {
      out += RenderConnection(c, true);
      out += "\n";
    }
    out += "\n";
  }
  out += fmt::format("Latency min/avg/max: {}/{}/{}\n", s.latency_min_ms, JavaDouble(RoundLatency4(s.latency_avg_ms)),
                     s.latency_max_ms);
  out += fmt::format("Received: {}\nSent: {}\nConnections: {}\nOutstanding: {}\nZxid: 0x{}\nMode: {}\n",
                     s.packets_received, s.packets_sent, s.alive_connections, s.outstanding_requests, JavaHex(s.zxid),
                     s.server_state);
  out += fmt::format("Node count: {}\n", s.node_count);
  if (s.proposal_sizes) {
    const ServerSnapshot::Sizes& p = *s.proposal_sizes;
    out += fmt::format("Proposal sizes last/min/max: {}/{}/{}\n", p.last, p.min, p.max);
  }
  return out;
}

std::string RenderConf(const ServerSnapshot& s) {
  return fmt::format(
      "clientPort={}\nsecureClientPort={}\ndataDir={}/version-2\ndataDirSize={}\ndataLogDir={}/version-2\n"
      "dataLogSize={}\ntickTime={}\nmaxClientCnxns={}\nminSessionTimeout={}\nmaxSessionTimeout={}\n"
      "clientPortListenBacklog={}\nserverId={}\n",
      s.client_port, s.secure_client_port, s.data_dir, s.data_dir_size, s.data_log_dir, s.log_dir_size, s.tick_time_ms,
      s.max_client_cnxns, s.min_session_timeout_ms, s.max_session_timeout_ms, s.client_port_listen_backlog,
      s.server_id);
}

std::string RenderCons(const ServerSnapshot& s) {
  std::string out;
  for (const ConnectionInfo& c : s.connections) {
    out += RenderConnection(c, false);
    out += "\n";
  }
  out += "\n";
  return out;
}

std::string RenderEnvi(const ServerSnapshot& s) {
  std::string out = "Environment:\n";
  for (const auto& [k, v] : s.environment) out += fmt::format("{}={}\n", k, v);
  return out;
}

std::string RenderMntr(const ServerSnapshot& s) {
  std::string out;
  for (const auto& [k, v] : MntrPairs(s)) out += fmt::format("zk_{}\t{}\n", k, v);
  return out;
}

}  // namespace

bool IsFourLetterWord(std::string_view first4) { return first4.size() == 4 && config::IsKnownFourLetterWord(first4); }

bool IsImplementedFourLetterWord(std::string_view cmd) {
  for (std::string_view w : kImplemented) {
    if (w == cmd) return true;
  }
  return false;
}

unsigned PartsFor(std::string_view cmd, const FourLetterWhitelist& wl) {
  if (!IsFourLetterWord(cmd) || !wl.Allows(cmd) || !IsImplementedFourLetterWord(cmd)) return kPartNone;
  if (cmd == "srvr") return kPartStats;
  if (cmd == "stat") return kPartStats | kPartConnections;
  if (cmd == "cons") return kPartConnections;
  if (cmd == "conf") return kPartConfig | kPartDirSizes;
  if (cmd == "dirs") return kPartDirSizes;
  if (cmd == "mntr") return kPartStats | kPartFds | kPartMetrics;
  if (cmd == "envi") return kPartEnvironment;
  if (cmd == "wchs") return kPartWatchSummary;
  return kPartNone;  // ruok, isro
}

std::string RenderConnection(const ConnectionInfo& c, bool brief) {
  std::string out = fmt::format(" {}[{}](queued={},recved={},sent={}", JavaSocketAddress(c.remote_ip, c.remote_port),
                                c.interest_ops == 0 ? std::string("0") : fmt::format("{:x}", c.interest_ops), c.queued,
                                c.received, c.sent);
  if (!brief && c.session_id != 0) {
    out += fmt::format(",sid=0x{},lop={},est={},to={}", JavaHex(c.session_id), c.last_op, c.established_ms,
                       c.session_timeout_ms);
    if (c.last_cxid >= 0) out += fmt::format(",lcxid=0x{}", JavaHex(c.last_cxid));
    out += fmt::format(",lzxid=0x{},lresp={},llat={},minlat={},avglat={},maxlat={}", JavaHex(c.last_zxid),
                       c.last_response_ms, c.last_latency_ms, c.min_latency_ms, c.avg_latency_ms, c.max_latency_ms);
  }
  out += ")";
  return out;
}

// MntrPairs: admin/mntr.cc.

std::string RenderFourLetter(std::string_view cmd, const ServerSnapshot& s, const FourLetterWhitelist& wl) {
  if (!IsFourLetterWord(cmd)) return "";
  if (!wl.Allows(cmd) || !IsImplementedFourLetterWord(cmd)) {
    return fmt::format("{} is not executed because it is not in the whitelist.\n", cmd);
  }
  if (cmd == "ruok") return "imok";
  if (cmd == "envi") return RenderEnvi(s);
  if (cmd == "isro") return !s.serving ? "null" : s.read_only ? "ro" : "rw";
  if (!s.serving) return std::string(kNotServing);
  if (cmd == "srvr") return RenderStat(s, false);
  if (cmd == "stat") return RenderStat(s, true);
  if (cmd == "conf") return RenderConf(s);
  if (cmd == "cons") return RenderCons(s);
  if (cmd == "mntr") return RenderMntr(s);
  if (cmd == "dirs") return fmt::format("datadir_size: {}\nlogdir_size: {}\n", s.data_dir_size, s.log_dir_size);
  if (cmd == "wchs") {
    return fmt::format("{} connections watching {} paths\nTotal watches:{}\n", s.wchs_connections, s.wchs_paths,
                       s.wchs_total);
  }
  return "";
}

}  // namespace aviary::admin
