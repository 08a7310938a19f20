#include "tls/context.h"

#include <fmt/core.h>
#include <openssl/err.h>

#include <algorithm>
#include <map>

#include "base/log.h"
#include "tls/store.h"

namespace aviary::tls {
namespace {

// ZooKeeper 3.8's defaults on Java 9+ (X509Util.DEFAULT_CIPHERS_JAVA9): GCM first, then CBC.
constexpr std::string_view kDefaultSuites[] = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
};

struct NamedCipher {
  std::string openssl_name;
  bool tls13 = false;
};

// IANA (= Java) suite name -> OpenSSL's, for every suite this OpenSSL has.
std::map<std::string, NamedCipher, std::less<>> CipherNames() {
  std::map<std::string, NamedCipher, std::less<>> names;
  SSL_CTX* tmp = SSL_CTX_new(TLS_server_method());
  if (tmp == nullptr) return names;
  SSL_CTX_set_cipher_list(tmp, "ALL:COMPLEMENTOFALL:@SECLEVEL=0");
  STACK_OF(SSL_CIPHER)* list = SSL_CTX_get_ciphers(tmp);
  for (int i = 0; list != nullptr && i < sk_SSL_CIPHER_num(list); ++i) {
    const SSL_CIPHER* c = sk_SSL_CIPHER_value(list, i);
    const char* std_name = SSL_CIPHER_standard_name(c);
    if (std_name == nullptr) continue;
    names[std_name] = NamedCipher{SSL_CIPHER_get_name(c), std::string_view(SSL_CIPHER_get_version(c)) == "TLSv1.3"};
  }
  SSL_CTX_free(tmp);
  return names;
}

bool ProtocolVersion(std::string_view name, int* out) {
  if (name == "TLSv1")
    *out = TLS1_VERSION;
  else if (name == "TLSv1.1")
    *out = TLS1_1_VERSION;
  else if (name == "TLSv1.2")
    *out = TLS1_2_VERSION;
  else if (name == "TLSv1.3")
    *out = TLS1_3_VERSION;
  else
    return false;
  return true;
}

// SSLContextAndOptions.getEnabledProtocols: ssl.enabledProtocols, else the
// context's own protocol (ssl.protocol). "TLS" stands for TLSv1.2 + TLSv1.3.
bool ApplyProtocols(SSL_CTX* ctx, const TlsOptions& opts, std::string* error) {
  std::vector<std::string> names = opts.enabled_protocols;
  std::string_view key = "ssl.enabledProtocols";
  if (names.empty()) {
    key = "ssl.protocol";
    names = opts.protocol == "TLS" ? std::vector<std::string>{"TLSv1.2", "TLSv1.3"}
                                   : std::vector<std::string>{opts.protocol};
  }
  int lo = 0, hi = 0;
  std::vector<int> enabled;
  for (const std::string& n : names) {
    int v = 0;
    if (!ProtocolVersion(n, &v)) {
      *error = fmt::format("{}: unsupported protocol '{}' (Aviary speaks TLSv1, TLSv1.1, TLSv1.2, TLSv1.3)", key, n);
      return false;
    }
    enabled.push_back(v);
    lo = lo == 0 ? v : std::min(lo, v);
    hi = std::max(hi, v);
  }
  SSL_CTX_set_min_proto_version(ctx, lo);
  SSL_CTX_set_max_proto_version(ctx, hi);
  auto off = [&](int v) { return std::find(enabled.begin(), enabled.end(), v) == enabled.end(); };
  uint64_t no = (off(TLS1_1_VERSION) ? SSL_OP_NO_TLSv1_1 : 0) | (off(TLS1_2_VERSION) ? SSL_OP_NO_TLSv1_2 : 0);
  SSL_CTX_set_options(ctx, no);  // gaps between lo and hi
  return true;
}

bool ApplyCiphers(SSL_CTX* ctx, const TlsOptions& opts, std::vector<std::string>* warnings, std::string* error) {
  auto names = CipherNames();
  std::vector<std::string> wanted(opts.cipher_suites.begin(), opts.cipher_suites.end());
  const bool defaults = wanted.empty();
  if (defaults) wanted.assign(std::begin(kDefaultSuites), std::end(kDefaultSuites));
  std::string tls12, tls13;
  for (const std::string& w : wanted) {
    auto it = names.find(w);
    if (it == names.end()) {
      if (!defaults) warnings->push_back(fmt::format("ssl.ciphersuites: unknown cipher suite {} skipped", w));
      continue;
    }
    std::string& list = it->second.tls13 ? tls13 : tls12;
    list += (list.empty() ? "" : ":") + it->second.openssl_name;
  }
  if (tls12.empty() && tls13.empty()) {
    *error = "ssl.ciphersuites: none of the listed cipher suites is known to OpenSSL";
    return false;
  }
  // An empty TLS 1.2 list is legal only when TLS 1.3 suites were given.
  if (!tls12.empty() && SSL_CTX_set_cipher_list(ctx, tls12.c_str()) != 1) {
    *error = "ssl.ciphersuites: OpenSSL refused the list: " + OpenSslErrors();
    return false;
  }
  if (tls12.empty()) SSL_CTX_set_cipher_list(ctx, "aNULL:!aNULL");  // no TLS <= 1.2 suite at all
  // The default list (as ZooKeeper's) has no TLS 1.3 suite; keep OpenSSL's
  // so that ssl.protocol=TLSv1.3 works. A list that was given is exact.
  if (!defaults && SSL_CTX_set_ciphersuites(ctx, tls13.c_str()) != 1) {
    *error = "ssl.ciphersuites: OpenSSL refused the TLS 1.3 list: " + OpenSslErrors();
    return false;
  }
  return true;
}

bool ApplyKeyStore(SSL_CTX* ctx, const TlsOptions& opts, std::string* error) {
  if (opts.key_store.empty()) {
    *error = "ssl.keyStore.location is not set: a TLS port needs the server's key and certificate";
    return false;
  }
  KeyStore ks;
  if (!LoadKeyStore(opts.key_store, &ks, error)) return false;
  if (SSL_CTX_use_certificate(ctx, ks.cert.get()) != 1 || SSL_CTX_use_PrivateKey(ctx, ks.key.get()) != 1) {
    *error = "ssl.keyStore: OpenSSL refused the key or certificate: " + OpenSslErrors();
    return false;
  }
  for (X509Ptr& c : ks.chain) {
    if (SSL_CTX_add1_chain_cert(ctx, c.get()) != 1) {
      *error = "ssl.keyStore: OpenSSL refused a chain certificate: " + OpenSslErrors();
      return false;
    }
  }
  return true;
}

// Client certificates: verified against the trust store; every store entry
// is an anchor (PARTIAL_CHAIN), as in Java's PKIX trust manager.
bool ApplyTrustStore(SSL_CTX* ctx, const TlsOptions& opts, std::string* error) {
  if (opts.client_auth == ClientAuth::kNone) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
    return true;
  }
  if (opts.trust_store.empty()) {
    *error = fmt::format("ssl.clientAuth={} needs ssl.trustStore.location to verify client certificates",
                         opts.client_auth == ClientAuth::kNeed ? "need (the default)" : "want");
    return false;
  }
  std::vector<X509Ptr> anchors;
  if (!LoadTrustStore(opts.trust_store, &anchors, error)) return false;
  X509_STORE* store = SSL_CTX_get_cert_store(ctx);
  STACK_OF(X509_NAME)* cas = sk_X509_NAME_new_null();
  for (X509Ptr& c : anchors) {
    X509_STORE_add_cert(store, c.get());
    sk_X509_NAME_push(cas, X509_NAME_dup(X509_get_subject_name(c.get())));
  }
  ERR_clear_error();  // a duplicate certificate is not an error
  X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
  SSL_CTX_set_client_CA_list(ctx, cas);
  int mode = SSL_VERIFY_PEER | (opts.client_auth == ClientAuth::kNeed ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);
  SSL_CTX_set_verify(ctx, mode, nullptr);
  SSL_CTX_set_verify_depth(ctx, 10);
  return true;
}

}  // namespace

SslCtxPtr BuildServerContext(const TlsOptions& opts, std::vector<std::string>* warnings, std::string* error) {
  // TLS_method: the same context also connects (quorum TLS, where every
  // member is both a TLS server and a TLS client).
  SslCtxPtr ctx(SSL_CTX_new(TLS_method()), SSL_CTX_free);
  if (!ctx) {
    *error = "cannot create a TLS context: " + OpenSslErrors();
    return nullptr;
  }
  SSL_CTX* c = ctx.get();
  // No renegotiation (ZooKeeper sets jdk.tls.rejectClientInitiatedRenegotiation),
  // no compression, no session resumption (a resumed session would skip
  // the client certificate check of a reloaded trust store).
  SSL_CTX_set_options(
      c, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_num_tickets(c, 0);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
  if (!ApplyProtocols(c, opts, error) || !ApplyCiphers(c, opts, warnings, error) || !ApplyKeyStore(c, opts, error) ||
      !ApplyTrustStore(c, opts, error)) {
    return nullptr;
  }
  return ctx;
}

}  // namespace aviary::tls
