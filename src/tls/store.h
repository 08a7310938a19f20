// Key stores and trust stores as ZooKeeper's X509Util loads them
// (KeyStoreFileType, PEMFileLoader, PKCS12FileLoader), read with OpenSSL.
//
// Owns: the store type rule (ssl.*.type, else the file extension: .pem,
// .p12, .jks, .bcfks; anything else is an error, as ZooKeeper's
// fromFilename), PEM and PKCS12 loading, and the refusal of JKS / BCFKS
// (Java-only formats) with the keytool command that converts them.
// Thread use: pure functions over files; callable from any thread.
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/options.h"

namespace aviary::tls {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;

enum class StoreType { kPem, kPkcs12, kJks, kBcfks };

// KeyStoreFileType.fromPropertyValueOrFileName. `key` names the setting in
// errors ("ssl.keyStore").
bool ResolveStoreType(const StoreOptions& store, std::string_view key, StoreType* out, std::string* error);

// The server's own identity: the private key, its certificate and the
// rest of the chain (in file order).
struct KeyStore {
  PkeyPtr key;
  X509Ptr cert;
  std::vector<X509Ptr> chain;
};
bool LoadKeyStore(const StoreOptions& store, KeyStore* out, std::string* error);

// Every certificate of the trust store (each one a trust anchor, as Java's
// PKIX trust manager treats them).
bool LoadTrustStore(const StoreOptions& store, std::vector<X509Ptr>* out, std::string* error);

// The OpenSSL error queue as one line (and cleared); empty if none.
std::string OpenSslErrors();

}  // namespace aviary::tls
