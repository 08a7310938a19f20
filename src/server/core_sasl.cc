// SASL on the client port (issue 8), on the core thread as ZooKeeperServer's
// processSasl and AuthenticationHelper: each opcode 102 is one step of the
// connection's Cyrus exchange (sasl/sasl_server.h), answered at once with
// zxid 0 and the server's token; success adds ("sasl", id) to the
// connection (and ("super", "") for a superUser); failure answers AUTHFAILED
// (SESSIONCLOSEDREQUIRESASLAUTH when SASL is required) with a null token and
// closes the connection. DIGEST-MD5 steps cost a few MD5s; a GSSAPI step
// decrypts a ticket with the keytab and checks the replay cache (file I/O
// under /var/tmp), well under a millisecond to a few milliseconds.
#include <algorithm>

#include "base/log.h"
#include "metrics/server_metrics.h"
#include "server/core_state.h"

namespace aviary::server {

using proto::Err;

namespace {
bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

void Core::OnSasl(Conn& c, const proto::Request& req, int64_t received_us) {
  proto::ReplyHeader hdr{req.header.xid, 0, 0};
  const bool required = opts_.enforce_auth && Contains(opts_.enforce_auth_schemes, "sasl");
  sasl::StepResult step;
  if (!opts_.sasl) {
    step.error = "SASL is not configured (no authProvider.N names the SASLAuthenticationProvider)";
  } else if (!c.extras || !c.extras->sasl) {
    c.Extras().sasl = opts_.sasl->Begin(&step.error);
  }
  if (c.extras && c.extras->sasl) {
    const auto* r = std::get_if<proto::GetSaslRequest>(&req.body);
    step = c.extras->sasl->Step(r != nullptr ? std::string_view(r->token) : std::string_view());
  }
  if (step.status == sasl::StepResult::kSuccess) {
    txn::AuthOutcome ids;
    ids.ids.push_back(proto::Id{"sasl", step.id});
    if (Contains(opts_.sasl_super_users, step.id)) {
      ids.ids.push_back(proto::Id{"super", ""});
      ids.is_super = true;
    }
    if (!AddIdentities(c.ctx, ids)) {
      step.status = sasl::StepResult::kFailure;
      step.error = "over the connection's identity bounds";
    } else {
      AV_LOG(kInfo, "session {:#x} from {}: SASL {} authenticated '{}'{}", c.session, c.peer(), opts_.sasl->mechanism(),
             step.id, ids.is_super ? " as super user" : "");
    }
  }
  if (step.status == sasl::StepResult::kFailure) {
    metrics::Server().auth_failed.Add();
    AV_LOG(kWarn, "client {} failed to SASL authenticate: {}", c.peer(), step.error);
    if (opts_.allow_sasl_failed_clients && !required) {
      // zookeeper.allowSaslFailedClients: the connection stays, unauthenticated.
      SendReply(c.id, hdr, proto::SetSaslResponse{}, received_us);
      return;
    }
    hdr.err = static_cast<int32_t>(required ? Err::kSessionClosedRequireSaslAuth : Err::kAuthFailed);
    SendReply(c.id, hdr, proto::SetSaslResponse{}, received_us, /*close_after=*/true);
    return;
  }
  SendReply(c.id, hdr, proto::SetSaslResponse{step.token, step.token_null}, received_us);
}

bool Core::EnforceAuth(Conn& c, const proto::Request& req) {
  if (!opts_.enforce_auth) return true;
  for (const proto::Id& id : c.ctx.ids) {
    if (Contains(opts_.enforce_auth_schemes, id.scheme)) return true;
  }
  std::string have, want;
  for (const proto::Id& id : c.ctx.ids) have += (have.empty() ? "" : ",") + id.scheme;
  for (const std::string& s : opts_.enforce_auth_schemes) want += (want.empty() ? "" : ",") + s;
  AV_LOG(kWarn, "closing {}: client authentication scheme(s) [{}] match none of the required [{}]", c.peer(), have,
         want);
  proto::ReplyHeader hdr{req.header.xid, 0, static_cast<int32_t>(Err::kSessionClosedRequireSaslAuth)};
  SendReply(c.id, hdr, proto::Empty{}, 0, /*close_after=*/true);
  c.closing = true;
  return false;
}

}  // namespace aviary::server
