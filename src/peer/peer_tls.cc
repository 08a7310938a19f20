#include "peer/peer_tls.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/peer_address.h"

namespace aviary::peer {

std::unique_ptr<net::TlsStream> PeerTlsConfig::ForAccepted(const std::string& peer) const {
  if (source == nullptr || (!connect_tls && !unified)) return nullptr;
  auto mode = unified ? net::TlsStream::Mode::kDetect : net::TlsStream::Mode::kTls;
  auto s = std::make_unique<net::TlsStream>(mode, source);
  if (verify_host) s->ExpectPeer(net::IpOfPeer(peer));
  return s;
}

std::unique_ptr<net::TlsStream> PeerTlsConfig::ForConnect(const std::string& host, std::string* why) const {
  if (source == nullptr || !connect_tls) return nullptr;
  auto s = std::make_unique<net::TlsStream>(net::TlsStream::Mode::kTls, source);
  if (verify_host) s->ExpectPeer(host);
  net::TlsStream::Input in = s->StartClient();
  if (in.close) {
    *why = in.why;
    return nullptr;
  }
  return s;
}

std::string QuorumKeyNames(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size();) {
    if (text.compare(i, 4, "ssl.") == 0 && text.compare(i, 11, "ssl.quorum.") != 0) {
      out += "ssl.quorum.";
      i += 4;
    } else {
      out += text[i++];
    }
  }
  return out;
}

bool MakePeerTls(tls::TlsOptions opts, bool ssl_quorum, bool unified, PeerTlsConfig* out, std::string* error) {
  *out = PeerTlsConfig{};
  if (!ssl_quorum && !unified) return true;
  opts.reload_key = "sslQuorumReloadCertFiles";
  opts.log_name = "quorum TLS";
  out->connect_tls = ssl_quorum;
  out->unified = unified;
  out->verify_host = opts.hostname_verification;
  out->handshake_timeout_ms = opts.handshake_timeout_ms;
  auto source = std::make_shared<tls::ContextSource>(std::move(opts));
  std::string why;
  if (!source->Start(&why)) {
    *error = "quorum TLS: " + QuorumKeyNames(why);
    return false;
  }
  out->source = std::move(source);
  return true;
}

bool WriteOutput(int fd, net::TlsStream* tls_stream, const std::string& out, size_t* out_pos, std::string* why) {
  const bool tls = tls_stream != nullptr && !tls_stream->plain();
  const std::string* buf = &out;
  size_t* pos = out_pos;
  if (tls) {
    if (tls_stream->ready() && *out_pos < out.size()) {
      if (!tls_stream->Encrypt(out.data() + *out_pos, out.size() - *out_pos, why)) {
        *why = "TLS: " + *why;
        return false;
      }
      *out_pos = out.size();
    }
    buf = &tls_stream->out;
    pos = &tls_stream->out_off;
  }
  while (*pos < buf->size()) {
    ssize_t n = send(fd, buf->data() + *pos, buf->size() - *pos, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      *why = std::string("write error: ") + std::strerror(errno);
      return false;
    }
    *pos += static_cast<size_t>(n);
  }
  if (tls) {
    tls_stream->out.clear();
    tls_stream->out_off = 0;
  }
  return true;
}

}  // namespace aviary::peer
