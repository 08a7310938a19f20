// ACL semantics of ZooKeeper 3.8 with its two default auth providers,
// "digest" and "ip", and the SASL provider's "sasl" ids (always accepted
// here; a session gets one only from a SASL exchange the server was
// configured for), plus world:anyone and the "super" bypass: permission
// checks (ZooKeeperServer.checkACL), ACL fix-up on create/setACL
// (PrepRequestProcessor.fixupACL) and addauth (handleAuthentication).
// Pure functions, thread-safe. "ip" is IPv4 only, as in ZooKeeper 3.8
// (an IPv6 ip ACL is rejected as invalid and never matches).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/records.h"
#include "txn/txn.h"

namespace aviary::txn {

// "user:" + base64(sha1("user:password")).
std::string DigestId(std::string_view user, std::string_view password);
// DigestAuthenticationProvider.generateDigest("user:password").
std::string DigestOfAuth(std::string_view user_colon_password);

// The x509 scheme (ZooKeeper's X509AuthenticationProvider) exists only
// when configured (TLS, or authProvider.N naming it), as ZooKeeper's
// ProviderRegistry; without it an x509 ACL is InvalidACL. Process-wide, set
// once at start before any thread runs (aviary-server's main), like the
// registry it mirrors. An x509 id matches an ACL id equal to it.
void SetX509SchemeEnabled(bool enabled);
bool X509SchemeEnabled();
// The sasl scheme likewise exists only when an authProvider.N names the
// SASLAuthenticationProvider: without it a sasl ACL is InvalidACL and grants
// nothing (ZooKeeper's ProviderRegistry has no "sasl" provider then).
void SetSaslSchemeEnabled(bool enabled);
bool SaslSchemeEnabled();

// True if some entry of `acl` grants any bit of `perm` to `ctx`. An empty
// list grants everything; a super session (ctx.is_super or an id with scheme
// "super") passes every check.
bool CheckPermission(const proto::AclList& acl, int32_t perm, const SessionCtx& ctx);

// fixupACL: removes exact duplicates, expands scheme "auth" into one entry
// per authenticated digest or sasl id of the session, validates ids. kInvalidAcl for
// an empty list, an unknown scheme, a malformed id, or "auth" without any
// authenticated id. `out` is written only on kOk.
proto::Err FixupAcl(const proto::AclList& in, const SessionCtx& ctx, proto::AclList* out);

// Provider id validity (isValid), exposed for tests.
bool IsValidDigestId(std::string_view id);
bool IsValidIpId(std::string_view id);
// SASLAuthenticationProvider.isValid (KerberosName's syntax).
bool IsValidSaslId(std::string_view id);
// IPAuthenticationProvider.matches(client_address, acl_expression).
bool IpMatches(std::string_view client_address, std::string_view acl_expr);

struct AuthOutcome {
  proto::Err err = proto::Err::kOk;
  std::vector<proto::Id> ids;  // ids to add to the session (in this order)
  bool is_super = false;
};
// addauth. "digest": always kOk with ("digest", DigestOfAuth(auth)), preceded
// by ("super", "") when that digest equals super_digest (and super_digest is
// non-empty). "ip": kOk with no new id (the connection's ip id is already
// present). Any other scheme: kAuthFailed.
AuthOutcome Authenticate(std::string_view scheme, std::string_view auth, std::string_view super_digest);

}  // namespace aviary::txn
