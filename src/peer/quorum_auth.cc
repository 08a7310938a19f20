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

// Decodes the quorum auth packets at the front of *in and hands each to
// `on` while it returns `more` (both sides' exchange loop); a malformed
// packet ends it with `bad()`. What was decoded is erased from *in.
template <typename R, typename OnPacket, typename OnBad>
R DrainPackets(std::string* in, R more, OnPacket on, OnBad bad) {
  size_t pos = 0;
  R result = more;
  while (result == more) {
    quorum::QuorumAuthPacket p;
    size_t used = 0;
    const quorum::ParseStatus st = quorum::DecodeQuorumAuthPacket(std::string_view(*in).substr(pos), &p, &used);
    if (st == quorum::ParseStatus::kNeedMore) break;
    if (st == quorum::ParseStatus::kBad) {
      result = bad();
      break;
    }
    pos += used;
    result = on(p);
  }
  in->erase(0, pos);
  return result;
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
  return DrainPackets(
      in, Result::kNeedMore, [&](const quorum::QuorumAuthPacket& p) { return OnPacket(p, out); },
      [&] { return Fail("a malformed quorum auth packet from the server"); });
}

QuorumAuthLearner::Result QuorumAuthLearner::OnPacket(const quorum::QuorumAuthPacket& p, std::string* out) {
  if (p.status == static_cast<int32_t>(quorum::QuorumAuthStatus::kSuccess)) {
    if (!client_->complete()) {
      if (p.token_null) return Fail("the server's SUCCESS carries no token");
      sasl::ClientStep step = client_->Step(p.token);
      if (step.status == sasl::ClientStep::kFailure) {
        return Fail("the server's final token was not accepted: " + step.error);
      }
      if (!step.token.empty()) return Fail("protocol error: a response after the server's SUCCESS");
      if (!client_->complete()) return Fail("the server said SUCCESS before the exchange was complete");
    }
    done_ = true;
    client_.reset();
    return Result::kSuccess;
  }
  if (p.status == static_cast<int32_t>(quorum::QuorumAuthStatus::kInProgress)) {
    if (client_->complete()) return Fail("the exchange is complete but the server did not say SUCCESS");
    if (++rounds_ > kMaxLearnerRounds) return Fail(fmt::format("more than {} rounds", kMaxLearnerRounds));
    if (p.token_null) return Fail("the server's challenge is null");
    sasl::ClientStep step = client_->Step(p.token);
    if (step.status == sasl::ClientStep::kFailure) return Fail(step.error);
    Send(quorum::QuorumAuthStatus::kInProgress, step.token, false, out);
    return Result::kNeedMore;
  }
  return Fail(p.status == static_cast<int32_t>(quorum::QuorumAuthStatus::kError)
                  ? std::string("the server refused the authentication (ERROR)")
                  : fmt::format("an unknown status {} from the server", p.status));
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
  return DrainPackets(
      in, Result::kNeedMore, [&](const quorum::QuorumAuthPacket& p) { return OnPacket(p, out); },
      [&] { return Fail("a malformed quorum auth packet", out); });
}

QuorumAuthServer::Result QuorumAuthServer::OnPacket(const quorum::QuorumAuthPacket& p, std::string* out) {
  if (!exchange_) {
    std::string why;
    if (ctx_.server != nullptr) exchange_ = ctx_.server->Begin(&why);
    if (!exchange_) return Fail(ctx_.server == nullptr ? std::string("no QuorumServer login") : why, out);
  }
  sasl::StepResult step = exchange_->Step(p.token);
  if (step.status == sasl::StepResult::kContinue) {
    if (++rounds_ > kQuorumSaslMaxRounds) {
      Send(quorum::QuorumAuthStatus::kError, step.token, step.token_null, out);
      return Fail(fmt::format("more than {} rounds", kQuorumSaslMaxRounds), nullptr);
    }
    Send(quorum::QuorumAuthStatus::kInProgress, step.token, step.token_null, out);
    return Result::kNeedMore;
  }
  if (step.status == sasl::StepResult::kSuccess) {
    Send(quorum::QuorumAuthStatus::kSuccess, step.token, step.token_null, out);
    done_ = true;
    exchange_.reset();
    user_ = step.id.empty() ? std::string("?") : step.id;
    return Result::kAuthenticated;
  }
  return Fail(step.error, out);
}

}  // namespace aviary::peer
