#include "tls/store.h"

#include <fmt/core.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include <cctype>
#include <cstdio>

namespace aviary::tls {
namespace {

constexpr size_t kMaxStoreBytes = 4u << 20;

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;

std::string Upper(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return r;
}

bool ReadStoreFile(const std::string& path, std::string* out, std::string* error) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    *error = fmt::format("cannot open {}", path);
    return false;
  }
  out->clear();
  char buf[16384];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && out->size() <= kMaxStoreBytes) out->append(buf, n);
  bool ok = !std::ferror(f) && out->size() <= kMaxStoreBytes;
  std::fclose(f);
  if (!ok) *error = fmt::format("cannot read {} (or it is larger than {} bytes)", path, kMaxStoreBytes);
  return ok;
}

std::string JavaOnly(std::string_view key, const std::string& path, std::string_view type) {
  std::string dest = path;
  if (size_t dot = dest.rfind('.'); dot != std::string::npos && dest.find('/', dot) == std::string::npos) {
    dest.resize(dot);
  }
  dest += ".p12";
  return fmt::format(
      "{}.location {} is a {} store, which only Java can read; convert it to PKCS12 once with\n"
      "    keytool -importkeystore -srckeystore {} -srcstoretype {} -destkeystore {} -deststoretype PKCS12\n"
      "  and point {}.location at {} (or use PEM files)",
      key, path, type, path, type, dest, key, dest);
}

// Java's "JKS" magic: a JKS file read as PKCS12 would fail with an obscure error.
bool LooksLikeJks(const std::string& bytes) {
  return bytes.size() >= 4 && static_cast<unsigned char>(bytes[0]) == 0xfe &&
         static_cast<unsigned char>(bytes[1]) == 0xed && static_cast<unsigned char>(bytes[2]) == 0xfe &&
         static_cast<unsigned char>(bytes[3]) == 0xed;
}

bool ReadTyped(const StoreOptions& store, std::string_view key, StoreType* type, std::string* bytes,
               std::string* error) {
  if (!ResolveStoreType(store, key, type, error)) return false;
  if (*type == StoreType::kJks || *type == StoreType::kBcfks) {
    *error = JavaOnly(key, store.location, *type == StoreType::kJks ? "JKS" : "BCFKS");
    return false;
  }
  if (!ReadStoreFile(store.location, bytes, error)) return false;
  if (LooksLikeJks(*bytes)) {
    *error = JavaOnly(key, store.location, "JKS");
    return false;
  }
  return true;
}

int PasswordCallback(char* buf, int size, int /*rwflag*/, void* u) {
  const auto* pw = static_cast<const std::string*>(u);
  int n = static_cast<int>(std::min<size_t>(pw->size(), static_cast<size_t>(size)));
  std::copy(pw->data(), pw->data() + n, buf);
  return n;
}

BioPtr MemBio(const std::string& bytes) {
  return BioPtr(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

std::vector<X509Ptr> PemCerts(const std::string& bytes) {
  std::vector<X509Ptr> certs;
  BioPtr bio = MemBio(bytes);
  while (X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(c);
  ERR_clear_error();  // the end of the file reads as an error
  return certs;
}

// PKCS12_parse with the password, and with no password when it is empty
// (a store written without one).
bool ParsePkcs12(const std::string& bytes, const std::string& password, EVP_PKEY** key, X509** cert,
                 STACK_OF(X509) * *ca) {
  BioPtr bio = MemBio(bytes);
  PKCS12* p12 = d2i_PKCS12_bio(bio.get(), nullptr);
  if (p12 == nullptr) return false;
  bool ok = PKCS12_parse(p12, password.c_str(), key, cert, ca) == 1;
  if (!ok && password.empty()) {
    ERR_clear_error();
    ok = PKCS12_parse(p12, nullptr, key, cert, ca) == 1;
  }
  PKCS12_free(p12);
  return ok;
}

// X509Util.getPasswordFromConfigPropertyOrFile: the passwordPath file wins
// (its contents, without a trailing line break).
bool PasswordOf(const StoreOptions& store, std::string_view key, std::string* out, std::string* error) {
  if (store.password_path.empty()) {
    *out = store.password;
    return true;
  }
  if (!ReadStoreFile(store.password_path, out, error)) {
    *error = fmt::format("{}.passwordPath: {}", key, *error);
    return false;
  }
  while (!out->empty() && (out->back() == '\n' || out->back() == '\r')) out->pop_back();
  return true;
}

}  // namespace

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out;
}

bool ResolveStoreType(const StoreOptions& store, std::string_view key, StoreType* out, std::string* error) {
  std::string t = Upper(store.type);
  if (t.empty()) {
    const std::string& p = store.location;
    size_t dot = p.rfind('.');
    std::string ext = dot == std::string::npos ? "" : p.substr(dot);
    if (ext == ".pem") t = "PEM";
    if (ext == ".p12") t = "PKCS12";
    if (ext == ".jks") t = "JKS";
    if (ext == ".bcfks") t = "BCFKS";
    if (t.empty()) {
      *error = fmt::format(
          "{}.type is not set and the type of {} cannot be told from its name (expected .pem, .p12 "
          "or .jks); set {}.type to PEM or PKCS12",
          key, p, key);
      return false;
    }
  }
  if (t == "PEM")
    *out = StoreType::kPem;
  else if (t == "PKCS12")
    *out = StoreType::kPkcs12;
  else if (t == "JKS")
    *out = StoreType::kJks;
  else if (t == "BCFKS")
    *out = StoreType::kBcfks;
  else {
    *error = fmt::format("invalid value for {}.type: '{}' (expected PEM, PKCS12, JKS or BCFKS)", key, store.type);
    return false;
  }
  return true;
}

bool LoadKeyStore(const StoreOptions& store, KeyStore* out, std::string* error) {
  constexpr std::string_view kKey = "ssl.keyStore";
  StoreType type;
  std::string bytes;
  std::string pw;
  if (!ReadTyped(store, kKey, &type, &bytes, error) || !PasswordOf(store, kKey, &pw, error)) return false;
  *out = KeyStore{};
  if (type == StoreType::kPem) {
    BioPtr bio = MemBio(bytes);
    out->key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, PasswordCallback, &pw));
    std::vector<X509Ptr> certs = PemCerts(bytes);
    if (!certs.empty()) {
      out->cert = std::move(certs[0]);
      for (size_t i = 1; i < certs.size(); ++i) out->chain.push_back(std::move(certs[i]));
    }
  } else {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* ca = nullptr;
    if (ParsePkcs12(bytes, pw, &key, &cert, &ca)) {
      out->key.reset(key);
      out->cert.reset(cert);
      for (int i = 0; ca != nullptr && i < sk_X509_num(ca); ++i) out->chain.emplace_back(sk_X509_value(ca, i));
      sk_X509_free(ca);  // the certificates now belong to out->chain
    }
  }
  if (!out->key || !out->cert) {
    std::string detail = OpenSslErrors();
    *error = fmt::format("{}.location {}: no private key and certificate could be read (wrong password or format?){}",
                         kKey, store.location, detail.empty() ? "" : ": " + detail);
    return false;
  }
  if (X509_check_private_key(out->cert.get(), out->key.get()) != 1) {
    OpenSslErrors();
    *error = fmt::format("{}.location {}: the private key does not match the certificate", kKey, store.location);
    return false;
  }
  return true;
}

bool LoadTrustStore(const StoreOptions& store, std::vector<X509Ptr>* out, std::string* error) {
  constexpr std::string_view kKey = "ssl.trustStore";
  StoreType type;
  std::string bytes;
  std::string pw;
  if (!ReadTyped(store, kKey, &type, &bytes, error) || !PasswordOf(store, kKey, &pw, error)) return false;
  out->clear();
  if (type == StoreType::kPem) {
    *out = PemCerts(bytes);
  } else {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    STACK_OF(X509)* ca = nullptr;
    if (ParsePkcs12(bytes, pw, &key, &cert, &ca)) {
      EVP_PKEY_free(key);
      if (cert != nullptr) out->emplace_back(cert);
      for (int i = 0; ca != nullptr && i < sk_X509_num(ca); ++i) out->emplace_back(sk_X509_value(ca, i));
      sk_X509_free(ca);
    }
  }
  if (out->empty()) {
    std::string detail = OpenSslErrors();
    *error = fmt::format("{}.location {}: no certificate could be read (wrong password or format?){}", kKey,
                         store.location, detail.empty() ? "" : ": " + detail);
    return false;
  }
  return true;
}

}  // namespace aviary::tls
