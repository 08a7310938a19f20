#include "net/tls_stream.h"

#include <fmt/core.h>

#include <algorithm>
#include <cstdint>

#include "net/connection_server.h"

namespace aviary::net {
namespace {

constexpr unsigned char kTlsHandshakeRecord = 0x16;

}  // namespace

TlsStream::TlsStream(Mode mode, std::shared_ptr<tls::ContextSource> source) : mode_(mode), source_(std::move(source)) {}

TlsStream::Input TlsStream::OnRaw(const char* data, size_t n, std::string* plain) {
  Input in;
  if (n == 0) return in;
  if (mode_ == Mode::kDetect) {
    if (static_cast<unsigned char>(data[0]) != kTlsHandshakeRecord) {
      mode_ = Mode::kPlain;
      in.opened = true;
      plain->append(data, n);
      return in;
    }
    mode_ = Mode::kTls;
  }
  if (mode_ == Mode::kPlain) {
    plain->append(data, n);
    return in;
  }
  if (conn_ == nullptr) return StartTls(data, n, plain);
  conn_->Feed(data, n);
  if (!conn_->handshake_done()) handshake_bytes_ += n;
  return Drive(plain);
}

TlsStream::Input TlsStream::StartTls(const char* data, size_t n, std::string* plain) {
  Input in;
  if (static_cast<unsigned char>(data[0]) != kTlsHandshakeRecord) {
    in.close = true;
    in.why = fmt::format("not a TLS handshake on the TLS port (first byte {:#04x}; a plaintext client?)",
                         static_cast<unsigned char>(data[0]));
    return in;
  }
  if (!MakeConn(false, &in.why)) {
    in.close = true;
    return in;
  }
  conn_->Feed(data, n);
  handshake_bytes_ = n;
  return Drive(plain);
}

bool TlsStream::MakeConn(bool client, std::string* why) {
  tls::SslCtxPtr ctx = source_->Current();
  conn_ = tls::TlsConn::Create(ctx.get(), why, client);
  if (conn_ != nullptr && !expect_peer_.empty() && !conn_->ExpectPeer(expect_peer_)) {
    *why = fmt::format("cannot verify the peer name {}", expect_peer_);
    conn_.reset();
  }
  return conn_ != nullptr;
}

TlsStream::Input TlsStream::StartClient() {
  Input in;
  if (!MakeConn(true, &in.why)) {
    in.close = true;
    return in;
  }
  std::string ignored;
  return Drive(&ignored);
}

TlsStream::Input TlsStream::Drive(std::string* plain) {
  Input in;
  bool was_done = conn_->handshake_done();
  if (!was_done) {
    if (handshake_bytes_ > kMaxHandshakeBytes) {
      in.close = true;
      in.why = fmt::format("TLS handshake larger than {} bytes", kMaxHandshakeBytes);
      return in;
    }
    tls::TlsConn::Status s = conn_->Handshake(&in.why);
    conn_->TakeOutput(&out);  // the server's flight, or the alert that ends a failure
    if (s != tls::TlsConn::Status::kOk) {
      in.close = true;
      if (in.why.empty()) in.why = "the peer closed the TLS handshake";
      return in;
    }
    if (!conn_->handshake_done()) return in;
    in.opened = true;
  }
  tls::TlsConn::Status s = conn_->Read(plain, SIZE_MAX, &in.why);
  conn_->TakeOutput(&out);
  if (s != tls::TlsConn::Status::kOk) in.close = true;  // kClosed: close_notify, why stays empty
  return in;
}

bool TlsStream::Encrypt(const char* data, size_t n, std::string* why) {
  if (conn_->Write(data, n, why) != tls::TlsConn::Status::kOk) return false;
  conn_->TakeOutput(&out);
  return true;
}

size_t TlsStream::NextSpan(const char* data, size_t n, size_t max) {
  if (frame_left_ == 0) {
    frame_left_ = n;  // not a whole frame's header: the rest as it is
    if (n >= 4) {
      const auto* b = reinterpret_cast<const unsigned char*>(data);
      const uint64_t len = (uint64_t{b[0]} << 24) | (uint64_t{b[1]} << 16) | (uint64_t{b[2]} << 8) | b[3];
      if (len + 4 <= n) frame_left_ = static_cast<size_t>(len) + 4;
    }
  }
  const size_t span = std::min({frame_left_, n, max});
  frame_left_ -= span;
  return span;
}

}  // namespace aviary::net
