// Quorum SASL (ZooKeeper's quorum.auth.*): the authentication one ensemble
// member runs when it connects to another, as QuorumCnxManager and the
// Learner / LearnerHandler sockets run it (docs/security/sasl.md, "Quorum
// SASL"). Wire: QuorumAuthPackets (quorum/codec.h), DIGEST-MD5 through Cyrus
// (sasl/sasl_client.h on the connecting side, sasl/sasl_server.h on the
// accepting side).
//
// Where it runs: on an election connection after the opener's
// InitialMessage, whichever id is larger (a smaller-id opener authenticates,
// then closes as it always does); on a learner's quorum-port connection
// before its first packet. The transports (election_transport.h,
// quorum_transport.h) feed bytes to these state machines on their I/O
// threads; nothing here blocks or touches a socket.
//
// Semantics (SaslQuorumAuthLearner / SaslQuorumAuthServer):
//  - the connecting side ("learner") authenticates only with enableSasl and
//    learnerRequireSasl; a failure closes the connection;
//  - the accepting side ("server"), with enableSasl, peeks the next 8 bytes:
//    the magic starts an exchange; anything else is a peer that does not
//    authenticate, refused with serverRequireSasl, else let through with
//    its bytes untouched. A failed exchange answers ERROR and is refused
//    with serverRequireSasl, else let through (rolling enablement);
//  - at most 5 IN_PROGRESS rounds from the server (MAX_RETRIES), tokens at
//    most kMaxQuorumAuthTokenBytes; the transports bound the time.
//
// Thread use: a state machine belongs to one connection (one thread); the
// QuorumSasl context is shared read-only by one transport's thread.
#pragma once

#include <memory>
#include <string>

#include "sasl/login.h"
#include "sasl/sasl_client.h"
#include "sasl/sasl_server.h"

namespace aviary::quorum {
struct QuorumAuthPacket;
}

namespace aviary::peer {

inline constexpr std::string_view kQuorumSaslService = "zookeeper-quorum";   // QUORUM_SERVER_PROTOCOL_NAME
inline constexpr std::string_view kQuorumSaslServer = "zk-quorum-sasl-md5";  // QUORUM_SERVER_SASL_DIGEST
inline constexpr int kQuorumSaslMaxRounds = 5;                               // SaslQuorumAuthServer.MAX_RETRIES

// What zoo.cfg and the JAAS file say (plain data).
struct QuorumSaslSettings {
  bool enable = false;           // quorum.auth.enableSasl
  bool learner_require = false;  // quorum.auth.learnerRequireSasl: we authenticate when we connect
  bool server_require = false;   // quorum.auth.serverRequireSasl: who connects to us must authenticate
  sasl::LearnerLogin learner;    // QuorumLearner section
  sasl::ServerLogin server;      // QuorumServer section (user_<name>="password")
  int timeout_ms = 5000;         // a whole exchange
};

// One transport's context: the settings and its own Cyrus authenticator.
struct QuorumSasl {
  QuorumSaslSettings settings;
  std::shared_ptr<sasl::Authenticator> server;  // null unless enable
  bool LearnerAuthenticates() const { return settings.enable && settings.learner_require; }
  bool ServerChecks() const { return settings.enable; }
};

// Null (and *error) when Cyrus or its DIGEST-MD5 plugin is missing, or the
// settings ask for what is not implemented.
std::shared_ptr<const QuorumSasl> MakeQuorumSasl(const QuorumSaslSettings& s, std::string* error);

// The connecting side.
class QuorumAuthLearner {
 public:
  enum class Result { kNeedMore, kSuccess, kFailure };
  explicit QuorumAuthLearner(const QuorumSasl& ctx) : ctx_(ctx) {}
  // Appends the first packet to *out.
  Result Start(std::string* out);
  // Consumes the server's packets from the front of *in (what follows the
  // last one stays); appends the answers to *out.
  Result OnInput(std::string* in, std::string* out);
  const std::string& error() const { return error_; }

 private:
  Result Fail(std::string why);
  // One packet of the server's: answered into *out, or the end.
  Result OnPacket(const quorum::QuorumAuthPacket& p, std::string* out);
  const QuorumSasl& ctx_;
  std::unique_ptr<sasl::DigestClient> client_;
  int rounds_ = 0;
  bool done_ = false;
  std::string error_;
};

// The accepting side.
class QuorumAuthServer {
 public:
  enum class Result {
    kNeedMore,
    kAuthenticated,    // the exchange succeeded (user())
    kUnauthenticated,  // let through without authentication (error() says why when an exchange failed)
    kRefused,          // close the connection (error())
  };
  explicit QuorumAuthServer(const QuorumSasl& ctx) : ctx_(ctx) {}
  // Consumes auth packets from the front of *in; appends replies to *out.
  // kUnauthenticated without an exchange leaves *in untouched.
  Result OnInput(std::string* in, std::string* out);
  // The peer closed (or the time ran out) before the exchange ended.
  Result OnEof(std::string why);
  const std::string& error() const { return error_; }
  const std::string& user() const { return user_; }
  bool exchanging() const { return started_; }

 private:
  Result Fail(std::string why, std::string* out);
  // One packet of the learner's: answered into *out, or the end.
  Result OnPacket(const quorum::QuorumAuthPacket& p, std::string* out);
  const QuorumSasl& ctx_;
  std::unique_ptr<sasl::Exchange> exchange_;
  bool started_ = false;
  int rounds_ = 0;
  bool done_ = false;
  std::string error_;
  std::string user_;
};

}  // namespace aviary::peer
