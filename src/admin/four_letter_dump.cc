// dump's rendering (DumpCommand), and Java's Date.toString for its times.
#include <fmt/core.h>
#include <time.h>

#include <array>

#include "admin/four_letter.h"
#include "admin/java_format.h"

namespace aviary::admin {
namespace {

// ExpiryQueue.dump: "Sets (B)/(E):" then per bucket "k expire at <date>:"
// and one tab-indented line per element.
template <typename Bucket, typename Line>
std::string RenderBuckets(const std::vector<Bucket>& buckets, Line line) {
  size_t elems = 0;
  for (const Bucket& b : buckets) elems += b.session_ids.size();
  std::string out = fmt::format("Sets ({})/({}):\n", buckets.size(), elems);
  for (const Bucket& b : buckets) {
    out += fmt::format("{} expire at {}:\n", b.session_ids.size(), JavaDate(b.expire_ms));
    for (int64_t id : b.session_ids) out += "\t" + line(id) + "\n";
  }
  return out;
}

std::string SessionLine(int64_t id) { return "0x" + JavaHex(id); }

std::string RenderSessionTracker(const DumpInfo& d) {
  std::string out;
  if (d.local_sessions_enabled) out += "Local Session " + RenderBuckets(d.local_buckets, SessionLine);
  if (d.learner) {
    out += fmt::format("Global Sessions({}):\n", d.global_sessions.size());
    for (const SessionTimeout& s : d.global_sessions)
      out += fmt::format("0x{}\t{}ms\n", JavaHex(s.session_id), s.timeout_ms);
    return out;
  }
  if (d.local_sessions_enabled) out += "Global ";
  return out + "Session " + RenderBuckets(d.global_buckets, SessionLine);
}

std::string RenderConnectionBuckets(const std::vector<ConnectionBucket>& buckets) {
  size_t elems = 0;
  for (const ConnectionBucket& b : buckets) elems += b.connections.size();
  std::string out = fmt::format("Connections Sets ({})/({}):\n", buckets.size(), elems);
  for (const ConnectionBucket& b : buckets) {
    out += fmt::format("{} expire at {}:\n", b.connections.size(), JavaDate(b.expire_ms));
    for (const ConnectionExpiry& c : b.connections) {
      out += fmt::format("\tip: {} sessionId: 0x{}\n", JavaSocketAddress(c.remote_ip, c.remote_port),
                         JavaHex(c.session_id));
    }
  }
  return out;
}

}  // namespace

std::string JavaDate(int64_t wall_ms) {
  time_t secs = static_cast<time_t>(wall_ms / 1000);
  struct tm tm_local {};
  if (localtime_r(&secs, &tm_local) == nullptr) return "?";
  std::array<char, 64> buf{};
  size_t n = strftime(buf.data(), buf.size(), "%a %b %d %H:%M:%S %Z %Y", &tm_local);
  return std::string(buf.data(), n);
}

std::string RenderDump(const DumpInfo& d) {
  std::string out = "SessionTracker dump:\n" + RenderSessionTracker(d);
  out += "ephemeral nodes dump:\n";
  out += fmt::format("Sessions with Ephemerals ({}):\n", d.ephemerals.size());
  for (const EphemeralOwner& e : d.ephemerals) {
    out += fmt::format("0x{}:\n", JavaHex(e.session_id));
    for (const std::string& p : e.paths) out += "\t" + p + "\n";
  }
  out += "Connections dump:\n";
  return out + RenderConnectionBuckets(d.connection_buckets);
}

}  // namespace aviary::admin
