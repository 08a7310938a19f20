// Election-port codecs: the connection handshake and notifications (codec.h).
#include <charconv>

#include "proto/jute.h"
#include "quorum/codec.h"

namespace aviary::quorum {
namespace {

std::string FormatAddress(const ElectionAddress& a) {
  // NetUtils.formatInetAddr: IPv6 literals in brackets.
  if (a.host.find(':') != std::string::npos) return "[" + a.host + "]:" + std::to_string(a.port);
  return a.host + ":" + std::to_string(a.port);
}

// ConfigUtils.getHostAndPort: "[v6]:port", "host:port", or a bare v6 literal
// whose last ':' separates the port.
bool ParseAddress(std::string_view text, ElectionAddress* out) {
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  int32_t value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || host.empty()) return false;
  // InetSocketAddress refuses ports outside 0..65535; a host must be a name
  // or an IPv4/IPv6 literal (with a %scope), so brackets, '|' and control
  // bytes are refused: what we accept we can write back and read again.
  if (value < 0 || value > 65535) return false;
  for (char c : host) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_' || c == ':' || c == '%';
    if (!ok) return false;
  }
  out->host = std::string(host);
  out->port = value;
  return true;
}

bool IsWildcardHost(std::string_view host) { return host == "0.0.0.0" || host == "::" || host == "0:0:0:0:0:0:0:0"; }

bool ParseAddressList(std::string_view text, std::vector<ElectionAddress>* out) {
  size_t start = 0;
  while (true) {
    size_t bar = text.find('|', start);
    std::string_view one = text.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start);
    ElectionAddress a;
    if (!ParseAddress(one, &a)) return false;
    if (!IsWildcardHost(a.host)) out->push_back(std::move(a));
    if (bar == std::string_view::npos) return true;
    start = bar + 1;
  }
}

std::optional<PeerState> StateOf(int32_t v) {
  if (v < 0 || v > 3) return std::nullopt;
  return static_cast<PeerState>(v);
}

}  // namespace

void EncodeInitialMessage(const InitialMessage& m, std::string* out) {
  proto::jute::Writer w(out);
  if (m.protocol_version >= 0) {  // legacy: the sid alone
    w.WriteInt64(m.sid);
    return;
  }
  w.WriteInt64(m.protocol_version);
  w.WriteInt64(m.sid);
  std::string text;
  for (const ElectionAddress& a : m.addresses) {
    if (!text.empty()) text += '|';
    text += FormatAddress(a);
    if (m.protocol_version == kElectionProtocolV1) break;  // V1 carries one
  }
  w.WriteBuffer(text);
}

ParseStatus DecodeInitialMessage(std::string_view in, InitialMessage* out, size_t* consumed) {
  proto::jute::Reader r(in);
  if (in.size() < 8) return ParseStatus::kNeedMore;
  InitialMessage m;
  m.protocol_version = r.ReadInt64();
  if (m.protocol_version >= 0) {
    m.sid = m.protocol_version;
    *out = std::move(m);
    *consumed = 8;
    return ParseStatus::kOk;
  }
  if (m.protocol_version != kElectionProtocolV1 && m.protocol_version != kElectionProtocolV2) return ParseStatus::kBad;
  if (in.size() < 20) return ParseStatus::kNeedMore;
  m.sid = r.ReadInt64();
  int32_t len = r.ReadInt32();
  if (len <= 0 || static_cast<size_t>(len) > kMaxInitialAddressBytes) return ParseStatus::kBad;
  if (r.remaining() < static_cast<size_t>(len)) return ParseStatus::kNeedMore;
  if (!ParseAddressList(r.ReadRaw(static_cast<size_t>(len)), &m.addresses)) return ParseStatus::kBad;
  *out = std::move(m);
  *consumed = 20 + static_cast<size_t>(len);
  return ParseStatus::kOk;
}

void EncodeNotification(const Notification& n, std::string* out) {
  proto::jute::Writer w(out);
  w.WriteInt32(static_cast<int32_t>(n.state));
  w.WriteInt64(n.leader);
  w.WriteInt64(n.zxid);
  w.WriteInt64(n.election_epoch);
  if (n.version <= 0) return;  // 28-byte form
  w.WriteInt64(n.peer_epoch);
  w.WriteInt32(n.version);
  if (n.version <= 1) return;  // 40-byte form
  w.WriteBuffer(n.config);
}

std::string EncodeNotification(const Notification& n) {
  std::string out;
  EncodeNotification(n, &out);
  return out;
}

void EncodeNotificationFrame(const Notification& n, std::string* out) {
  proto::jute::Writer w(out);
  size_t at = w.BeginFrame();
  EncodeNotification(n, out);
  w.EndFrame(at);
}

std::optional<Notification> DecodeNotification(std::string_view body) {
  const size_t size = body.size();
  if (size < kMinNotificationBytes) return std::nullopt;
  proto::jute::Reader r(body);
  Notification n;
  std::optional<PeerState> state = StateOf(r.ReadInt32());
  n.leader = r.ReadInt64();
  n.zxid = r.ReadInt64();
  n.election_epoch = r.ReadInt64();
  n.version = 0;
  if (size == kMinNotificationBytes) {
    n.peer_epoch = EpochOf(n.zxid);
  } else {
    n.peer_epoch = r.ReadInt64();
    if (size != 40) n.version = r.ReadInt32();
  }
  if (n.version > 1) {
    int32_t len = r.ReadInt32();
    if (len < 0 || static_cast<size_t>(len) > size) return std::nullopt;
    n.config = std::string(r.ReadRaw(static_cast<size_t>(len)));
  }
  if (!r.ok() || !state) return std::nullopt;
  n.state = *state;
  return n;
}

}  // namespace aviary::quorum
