// The server side of ZooKeeper's SASL exchange (opcode 102) on Cyrus SASL:
// one Authenticator per server, built from the JAAS login (login.h), and one
// Exchange per client connection that feeds the client's tokens to Cyrus
// and returns the server's.
//
// Mechanisms are Cyrus's plugins (libsasl2-modules, libsasl2-modules-gssapi-
// mit), chosen as ZooKeeper's server chooses: GSSAPI when the login has a
// Kerberos principal (service and server name from it; the keytab through
// KRB5_KTNAME, see ConfigureKeytab), DIGEST-MD5 otherwise (service
// "zookeeper", server name and realm "zk-sasl-md5"). DIGEST-MD5 passwords
// come from the Authenticator's user table through a small in-memory
// auxprop plugin ("aviary-memory") that asks the connection's own GETOPT
// callback for the secret: nothing is written to disk, no sasldb is read
// and two Authenticators in one process never see each other's users.
//
// Thread use: an Authenticator and its Exchanges belong to one thread (the
// core); Cyrus's global init runs once per process (std::call_once).
// Hostile input: tokens are bounded (kMaxSaslTokenBytes); any Cyrus error
// is a failed exchange, never a crash.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "sasl/login.h"

typedef struct sasl_conn sasl_conn_t;

namespace aviary::sasl {

inline constexpr size_t kMaxSaslTokenBytes = 64 * 1024;

struct AuthenticatorOptions {
  ServerLogin login;
  std::string default_realm;   // krb5.conf default_realm (KerberosName's DEFAULT rule)
  bool remove_host = false;    // kerberos.removeHostFromPrincipal
  bool remove_realm = false;   // kerberos.removeRealmFromPrincipal
  std::string super_password;  // SASLAuthenticationProvider.superPassword: user "super"'s password, if set
  // DIGEST-MD5's service and server name (also the realm offered): the
  // client port's "zookeeper" / "zk-sasl-md5" by default; quorum SASL uses
  // "zookeeper-quorum" / "zk-quorum-sasl-md5" (QuorumAuth).
  std::string digest_service = "zookeeper";
  std::string digest_server_name = "zk-sasl-md5";
};

struct StepResult {
  enum Status { kContinue, kSuccess, kFailure };
  Status status = kFailure;
  std::string token;       // the server's token for the client
  bool token_null = true;  // no token at all (a null jute buffer)
  std::string id;          // on kSuccess: the ("sasl", id) identity
  std::string error;       // on kFailure: why, for the log
};

class Exchange;

class Authenticator {
 public:
  // Initialises Cyrus (once per process) and checks that the mechanism's
  // plugin is installed. Null with *error otherwise.
  static std::unique_ptr<Authenticator> Create(AuthenticatorOptions options, std::string* error);
  ~Authenticator();

  // A new exchange for one connection; null with *error when Cyrus cannot
  // create one.
  std::unique_ptr<Exchange> Begin(std::string* error);

  const std::string& mechanism() const { return mechanism_; }
  const AuthenticatorOptions& options() const { return options_; }

  // For the auxprop plugin: the DIGEST-MD5 secret of `user`, or null.
  const std::string* SecretOf(std::string_view user) const;

 private:
  explicit Authenticator(AuthenticatorOptions options);
  AuthenticatorOptions options_;
  std::string mechanism_;
  std::string service_;
  std::string server_name_;
};

class Exchange {
 public:
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  // Feeds one client token. After kSuccess or kFailure every later call
  // fails.
  StepResult Step(std::string_view client_token);

 private:
  friend class Authenticator;
  explicit Exchange(const Authenticator* auth);
  StepResult Finish(int rc, const char* out, unsigned out_len);

  const Authenticator* auth_;
  sasl_conn_t* conn_ = nullptr;
  bool started_ = false;
  bool done_ = false;
  struct Callbacks;
  std::unique_ptr<Callbacks> cb_;
};

// Points MIT Kerberos' acceptor at `keytab` (KRB5_KTNAME, process-wide:
// call before any thread uses GSSAPI, i.e. at startup).
void ConfigureKeytab(const std::string& keytab);

}  // namespace aviary::sasl
