// The client side of a DIGEST-MD5 exchange on Cyrus SASL, as a learner runs
// it against another ensemble member (quorum SASL, peer/quorum_auth.h):
// Java's SaslClient for "DIGEST-MD5" with the JAAS QuorumLearner section's
// username and password, protocol "zookeeper-quorum" and server name
// "zk-quorum-sasl-md5" (so digest-uri "zookeeper-quorum/zk-quorum-sasl-md5"),
// qop "auth", no authorization id (ZooKeeper's server wants it equal to the
// authentication id), the realm the server's challenge offers.
//
// Thread use: one DigestClient per connection, used by one thread at a
// time. Create initialises Cyrus' client side once per process
// (std::call_once): call it first at startup, before threads use SASL.
// Hostile input: challenges are bounded (kMaxSaslTokenBytes); any Cyrus
// error is a failed exchange, never a crash.
#pragma once

#include <memory>
#include <string>
#include <string_view>

typedef struct sasl_conn sasl_conn_t;

namespace aviary::sasl {

struct ClientStep {
  enum Status { kContinue, kComplete, kFailure };
  Status status = kFailure;
  std::string token;  // the response for the server (may be empty)
  std::string error;  // on kFailure
};

class DigestClient {
 public:
  // Null with *error when Cyrus or its DIGEST-MD5 plugin is unavailable.
  static std::unique_ptr<DigestClient> Create(std::string service, std::string server_name, std::string user,
                                              std::string password, std::string* error);
  ~DigestClient();
  DigestClient(const DigestClient&) = delete;
  DigestClient& operator=(const DigestClient&) = delete;

  // The initial response (DIGEST-MD5 has none: kContinue, empty token).
  ClientStep Start();
  // One server challenge in, the response out. kComplete once the server's
  // rspauth checked out (the token is then empty).
  ClientStep Step(std::string_view challenge);
  bool complete() const { return complete_; }

 private:
  DigestClient() = default;
  struct Callbacks;
  std::unique_ptr<Callbacks> cb_;
  sasl_conn_t* conn_ = nullptr;
  bool complete_ = false;
  bool failed_ = false;
};

}  // namespace aviary::sasl
