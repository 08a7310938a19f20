// Quorum SASL state machines (quorum_auth.h).
#include "peer/quorum_auth.h"

#include <fmt/core.h>

#include "quorum/codec.h"

namespace aviary::peer {
namespace {

// Our bound on the learner's rounds (ZooKeeper's learner has none; its
// server stops at MAX_RETRIES).
constexpr int kMaxLearnerRounds = 2 * kQuorumSaslMaxRounds;

void Send(quorum::QuorumAuthStatus status, std::string_view token, bool token_null, std::string* out) {
  quorum::QuorumAuthPacket p;
  p.status = static_cast<int32_t>(status);
  p.token.assign(token);
  p.token_null = token_null;
  quorum::EncodeQuorumAuthPacket(p, out);
}

}  // namespace

std::shared_ptr<const QuorumSasl> MakeQuorumSasl(const QuorumSaslSettings& s, std::string* error) {
  auto ctx = std::make_shared<QuorumSasl>();
  ctx->settings = s;
  if (!s.enable) return ctx;
  if (s.server.kerberos) {
    *error =
        "quorum.auth.enableSasl=true with a Kerberos (Krb5LoginModule) QuorumServer login: Kerberos between "
        "ensemble members (quorum.auth.kerberos.servicePrincipal) is not implemented by Aviary; use DIGEST-MD5";
    return nullptr;
  }
  sasl::AuthenticatorOptions o;
  o.login = s.server;
  o.digest_service = std::string(kQuorumSaslService);
  o.digest_server_name = std::string(kQuorumSaslServer);
  std::unique_ptr<sasl::Authenticator> a = sasl::Authenticator::Create(std::move(o), error);
  if (!a) return nullptr;
  ctx->server = std::move(a);
  // Initialises Cyrus' client side now, on this thread (and checks it works).
  if (!sasl::DigestClient::Create(std::string(kQuorumSaslService), std::string(kQuorumSaslServer), "probe", "probe",
                                  error)) {
    return nullptr;
  }
  if (ctx->LearnerAuthenticates() && s.learner.user.empty()) {
    *error = "quorum.auth.learnerRequireSasl=true but the QuorumLearner login has no username";
    return nullptr;
  }
  return ctx;
}

// ---- the connecting side ----

QuorumAuthLearner::Result QuorumAuthLearner::Fail(std::string why) {
  done_ = true;
  error_ = std::move(why);
  client_.reset();
  return Result::kFailure;
}

QuorumAuthLearner::Result QuorumAuthLearner::Start(std::string* out) {
  std::string why;
  const QuorumSaslSettings& s = ctx_.settings;
  client_ = sasl::DigestClient::Create(std::string(kQuorumSaslService), std::string(kQuorumSaslServer), s.learner.user,
                                       s.learner.password, &why);
  if (!client_) return Fail(why);
  sasl::ClientStep step = client_->Start();
  if (step.status == sasl::ClientStep::kFailure) return Fail(step.error);
  // An empty (not null) token when the mechanism has no initial response.
  Send(quorum::QuorumAuthStatus::kInProgress, step.token, false, out);
  return Result::kNeedMore;
}

QuorumAuthLearner::Result QuorumAuthLearner::OnInput(std::string* in, std::string* out) {
  if (done_) return Result::kFailure;
  if (!client_) return Fail("the exchange was not started");
  size_t pos = 0;
  Result result = Result::kNeedMore;
  while (result == Result::kNeedMore) {
    quorum::QuorumAuthPacket p;
    size_t used = 0;
    quorum::ParseStatus st = quorum::DecodeQuorumAuthPacket(std::string_view(*in).substr(pos), &p, &used);
    if (st == quorum::ParseStatus::kNeedMore) break;
    if (st == quorum::ParseStatus::kBad) {
      result = Fail("a malformed quorum auth packet from the server");
      break;
    }
    pos += used;
    if (p.status == static_cast<int32_t>(quorum::QuorumAuthStatus::kSuccess)) {
      if (!client_->complete()) {
        if (p.token_null) {
          result = Fail("the server's SUCCESS carries no token");
          break;
        }
        sasl::ClientStep step = client_->Step(p.token);
        if (step.status == sasl::ClientStep::kFailure) {
          result = Fail("the server's final token was not accepted: " + step.error);
          break;
        }
        if (!step.token.empty()) {
          result = Fail("protocol error: a response after the server's SUCCESS");
          break;
        }
        if (!client_->complete()) {
          result = Fail("the server said SUCCESS before the exchange was complete");
          break;
        }
      }
      done_ = true;
      client_.reset();
      result = Result::kSuccess;
    } else if (p.status == static_cast<int32_t>(quorum::QuorumAuthStatus::kInProgress)) {
      if (client_->complete()) {
        result = Fail("the exchange is complete but the server did not say SUCCESS");
      } else if (++rounds_ > kMaxLearnerRounds) {
        result = Fail(fmt::format("more than {} rounds", kMaxLearnerRounds));
      } else if (p.token_null) {
        result = Fail("the server's challenge is null");
      } else {
        sasl::ClientStep step = client_->Step(p.token);
        if (step.status == sasl::ClientStep::kFailure) {
          result = Fail(step.error);
        } else {
          Send(quorum::QuorumAuthStatus::kInProgress, step.token, false, out);
        }
      }
    } else {
      result = Fail(p.status == static_cast<int32_t>(quorum::QuorumAuthStatus::kError)
                        ? std::string("the server refused the authentication (ERROR)")
                        : fmt::format("an unknown status {} from the server", p.status));
    }
  }
  in->erase(0, pos);
  return result;
}

// ---- the accepting side ----

QuorumAuthServer::Result QuorumAuthServer::Fail(std::string why, std::string* out) {
  if (out != nullptr) Send(quorum::QuorumAuthStatus::kError, {}, false, out);
  done_ = true;
  exchange_.reset();
  error_ = std::move(why);
  return ctx_.settings.server_require ? Result::kRefused : Result::kUnauthenticated;
}

QuorumAuthServer::Result QuorumAuthServer::OnEof(std::string why) {
  done_ = true;
  exchange_.reset();
  error_ = std::move(why);
  return ctx_.settings.server_require ? Result::kRefused : Result::kUnauthenticated;
}

QuorumAuthServer::Result QuorumAuthServer::OnInput(std::string* in, std::string* out) {
  if (done_) {  // over: the same answer again, nothing consumed
    if (!user_.empty()) return Result::kAuthenticated;
    return ctx_.settings.server_require ? Result::kRefused : Result::kUnauthenticated;
  }
  if (!started_) {
    quorum::ParseStatus peek = quorum::PeekQuorumAuth(*in);
    if (peek == quorum::ParseStatus::kNeedMore) return Result::kNeedMore;
    if (peek == quorum::ParseStatus::kBad) {
      done_ = true;
      if (!ctx_.settings.server_require) return Result::kUnauthenticated;
      error_ = "the peer does not authenticate and quorum.auth.serverRequireSasl=true";
      return Result::kRefused;
    }
    started_ = true;
  }
  size_t pos = 0;
  Result result = Result::kNeedMore;
  while (result == Result::kNeedMore) {
    quorum::QuorumAuthPacket p;
    size_t used = 0;
    quorum::ParseStatus st = quorum::DecodeQuorumAuthPacket(std::string_view(*in).substr(pos), &p, &used);
    if (st == quorum::ParseStatus::kNeedMore) break;
    if (st == quorum::ParseStatus::kBad) {
      result = Fail("a malformed quorum auth packet", out);
      break;
    }
    pos += used;
    if (!exchange_) {
      std::string why;
      if (ctx_.server != nullptr) exchange_ = ctx_.server->Begin(&why);
      if (!exchange_) {
        result = Fail(ctx_.server == nullptr ? std::string("no QuorumServer login") : why, out);
        break;
      }
    }
    sasl::StepResult step = exchange_->Step(p.token);
    if (step.status == sasl::StepResult::kContinue) {
      if (++rounds_ > kQuorumSaslMaxRounds) {
        Send(quorum::QuorumAuthStatus::kError, step.token, step.token_null, out);
        result = Fail(fmt::format("more than {} rounds", kQuorumSaslMaxRounds), nullptr);
      } else {
        Send(quorum::QuorumAuthStatus::kInProgress, step.token, step.token_null, out);
      }
    } else if (step.status == sasl::StepResult::kSuccess) {
      Send(quorum::QuorumAuthStatus::kSuccess, step.token, step.token_null, out);
      done_ = true;
      exchange_.reset();
      user_ = step.id.empty() ? std::string("?") : step.id;
      result = Result::kAuthenticated;
    } else {
      result = Fail(step.error, out);
    }
  }
  in->erase(0, pos);
  return result;
}

}  // namespace aviary::peer
