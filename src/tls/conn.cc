#include "tls/conn.h"

#include <fmt/core.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "tls/store.h"
#include "tls/x509_name.h"

namespace aviary::tls {

std::unique_ptr<TlsConn> TlsConn::Create(SSL_CTX* ctx, std::string* error, bool client) {
  std::unique_ptr<TlsConn> c(new TlsConn());
  c->ssl_ = SSL_new(ctx);
  c->in_ = BIO_new(BIO_s_mem());
  c->out_ = BIO_new(BIO_s_mem());
  if (c->ssl_ == nullptr || c->in_ == nullptr || c->out_ == nullptr) {
    if (c->ssl_ == nullptr) {
      BIO_free(c->in_);
      BIO_free(c->out_);
      c->in_ = c->out_ = nullptr;
    }
    *error = "cannot create a TLS connection: " + OpenSslErrors();
    return nullptr;
  }
  BIO_set_mem_eof_return(c->in_, -1);  // no input yet = retry, not EOF
  SSL_set_bio(c->ssl_, c->in_, c->out_);
  if (client) {
    SSL_set_connect_state(c->ssl_);
  } else {
    SSL_set_accept_state(c->ssl_);
  }
  return c;
}

bool TlsConn::ExpectPeer(const std::string& host) {
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
  // An IP address literal is matched against the IP SANs only.
  if (X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1) return true;
  ERR_clear_error();
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
}

TlsConn::~TlsConn() {
  if (ssl_ != nullptr) {
    SSL_free(ssl_);  // frees both BIOs
  } else {
    BIO_free(in_);
    BIO_free(out_);
  }
}

namespace {
constexpr size_t kShrinkAfterBytes = 64u << 10;
}  // namespace

void TlsConn::Feed(const char* data, size_t n) {
  BIO_write(in_, data, static_cast<int>(n));
  in_grown_ += n;
}

void TlsConn::ShrinkBuffers() {
  if (in_grown_ > kShrinkAfterBytes && BIO_ctrl_pending(in_) == 0) {
    if (BIO* fresh = BIO_new(BIO_s_mem())) {
      BIO_set_mem_eof_return(fresh, -1);
      SSL_set0_rbio(ssl_, fresh);  // frees the old one
      in_ = fresh;
      in_grown_ = 0;
    }
  }
  if (out_grown_ > kShrinkAfterBytes && BIO_ctrl_pending(out_) == 0) {
    if (BIO* fresh = BIO_new(BIO_s_mem())) {
      SSL_set0_wbio(ssl_, fresh);
      out_ = fresh;
      out_grown_ = 0;
    }
  }
}

size_t TlsConn::PendingInput() const { return BIO_ctrl_pending(in_); }
size_t TlsConn::PendingOutput() const { return BIO_ctrl_pending(out_); }

TlsConn::Status TlsConn::Fail(int ret, std::string_view what, std::string* why) {
  int err = SSL_get_error(ssl_, ret);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    ERR_clear_error();
    return Status::kOk;
  }
  if (err == SSL_ERROR_ZERO_RETURN) return Status::kClosed;
  std::string detail = OpenSslErrors();
  long verify = SSL_get_verify_result(ssl_);
  if (verify != X509_V_OK) {
    detail = fmt::format("{} certificate rejected: {}{}", SSL_is_server(ssl_) ? "client" : "server",
                         X509_verify_cert_error_string(verify), detail.empty() ? "" : " (" + detail + ")");
  }
  if (detail.empty()) detail = err == SSL_ERROR_SYSCALL ? "unexpected end of stream" : fmt::format("error {}", err);
  *why = fmt::format("{}: {}", what, detail);
  return Status::kError;
}

TlsConn::Status TlsConn::Handshake(std::string* why) {
  if (done_) return Status::kOk;
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    done_ = true;
    return Status::kOk;
  }
  return Fail(r, "TLS handshake failed", why);
}

TlsConn::Status TlsConn::Read(std::string* plain, size_t max_bytes, std::string* why) {
  constexpr size_t kChunk = 16 * 1024;
  size_t got = 0;
  while (got < max_bytes) {
    size_t old = plain->size();
    plain->resize(old + kChunk);
    size_t n = 0;
    int r = SSL_read_ex(ssl_, plain->data() + old, kChunk, &n);
    plain->resize(old + (r == 1 ? n : 0));
    if (r != 1) {
      Status st = Fail(r, "TLS read failed", why);
      if (st == Status::kOk) ShrinkBuffers();
      return st;
    }
    got += n;
  }
  return Status::kOk;
}

TlsConn::Status TlsConn::Write(const char* data, size_t n, std::string* why) {
  size_t written = 0;
  if (n == 0) return Status::kOk;
  int r = SSL_write_ex(ssl_, data, n, &written);  // a memory BIO takes it all
  if (r == 1 && written == n) return Status::kOk;
  Status s = Fail(r, "TLS write failed", why);
  if (s == Status::kOk) {
    *why = "TLS write failed: incomplete";
    return Status::kError;
  }
  return s;
}

void TlsConn::TakeOutput(std::string* out) {
  char* p = nullptr;
  long n = BIO_get_mem_data(out_, &p);
  if (n <= 0) return;
  out->append(p, static_cast<size_t>(n));
  (void)BIO_reset(out_);
  out_grown_ += static_cast<size_t>(n);
  if (out_grown_ > kShrinkAfterBytes) ShrinkBuffers();
}

std::string TlsConn::PeerSubject() const {
  if (!done_ || SSL_get_verify_result(ssl_) != X509_V_OK) return {};
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (cert == nullptr) return {};
  return Rfc2253Name(X509_get_subject_name(cert));
}

std::string TlsConn::Describe() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  return fmt::format("{} {}", SSL_get_version(ssl_), c != nullptr ? SSL_CIPHER_standard_name(c) : "?");
}

}  // namespace aviary::tls
