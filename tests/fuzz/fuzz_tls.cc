// libFuzzer target for the TLS paths a client controls (issue 8): the
// bytes of a client's first flight fed to a server-side TlsConn (handshake,
// then reads), and a certificate subject (DER Name) formatted as Java's
// X500Principal.getName(). The first input byte picks the path.
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "tls/conn.h"
#include "tls/x509_name.h"

namespace {

// A server context with a throwaway self-signed key, made once.
SSL_CTX* Context() {
  static SSL_CTX* ctx = [] {
    SSL_CTX* c = SSL_CTX_new(TLS_server_method());
    EVP_PKEY* key = EVP_EC_gen("P-256");
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("fuzz"), -1, -1, 0);
    X509_set_issuer_name(cert, X509_get_subject_name(cert));
    X509_sign(cert, key, EVP_sha256());
    SSL_CTX_use_certificate(c, cert);
    SSL_CTX_use_PrivateKey(c, key);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
    X509_free(cert);
    EVP_PKEY_free(key);
    return c;
  }();
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  if (mode & 1) {
    const unsigned char* p = data;
    if (X509_NAME* name = d2i_X509_NAME(nullptr, &p, static_cast<long>(size))) {
      std::string dn = aviary::tls::Rfc2253Name(name);
      X509_NAME_free(name);
    }
    return 0;
  }
  std::string error;
  auto conn = aviary::tls::TlsConn::Create(Context(), &error);
  if (!conn) return 0;
  // Fed in two pieces, as a socket may deliver it.
  size_t half = size / 2;
  std::string plain, out;
  for (auto [from, n] : {std::pair{data, half}, std::pair{data + half, size - half}}) {
    conn->Feed(reinterpret_cast<const char*>(from), n);
    if (conn->Handshake(&error) != aviary::tls::TlsConn::Status::kOk) break;
    conn->TakeOutput(&out);
    if (conn->handshake_done() && conn->Read(&plain, 1 << 20, &error) != aviary::tls::TlsConn::Status::kOk) break;
  }
  (void)conn->PeerSubject();
  return 0;
}
