#include "txn/acl.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>

namespace aviary::txn {
namespace {

std::string Base64(const unsigned char* p, size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

// Java Integer.parseInt: optional sign, at least one decimal digit, int range.
std::optional<int64_t> ParseJavaInt(std::string_view s) {
  size_t i = 0;
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    i = 1;
  }
  if (i == s.size()) return std::nullopt;
  int64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
    if (v > 2147483648LL) return std::nullopt;
  }
  if (!neg && v > 2147483647LL) return std::nullopt;
  return neg ? -v : v;
}

// IPAuthenticationProvider.v4addr2Bytes.
std::optional<std::array<uint8_t, 4>> V4Bytes(std::string_view addr) {
  std::array<uint8_t, 4> b{};
  size_t part = 0;
  size_t start = 0;
  while (true) {
    const size_t dot = addr.find('.', start);
    const std::string_view piece = addr.substr(start, dot == std::string_view::npos ? addr.npos : dot - start);
    if (part >= 4) return std::nullopt;
    const auto v = ParseJavaInt(piece);
    if (!v || *v < 0 || *v > 255) return std::nullopt;
    b[part++] = static_cast<uint8_t>(*v);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (part != 4) return std::nullopt;
  return b;
}

void Mask(std::array<uint8_t, 4>& b, int bits) {
  for (int i = 0; i < 4; ++i) {
    const int keep = std::clamp(bits - 8 * i, 0, 8);
    b[i] &= static_cast<uint8_t>(0xFF00 >> keep);
  }
}

struct IpExpr {
  std::array<uint8_t, 4> addr;
  int bits;
};
std::optional<IpExpr> ParseIpExpr(std::string_view expr) {
  const size_t slash = expr.find('/');
  auto addr = V4Bytes(expr.substr(0, slash));
  if (!addr) return std::nullopt;
  int bits = 32;
  if (slash != std::string_view::npos) {
    const auto v = ParseJavaInt(expr.substr(slash + 1));
    if (!v || *v < 0 || *v > 32) return std::nullopt;
    bits = static_cast<int>(*v);
  }
  return IpExpr{*addr, bits};
}

bool HasSuper(const SessionCtx& ctx) {
  if (ctx.is_super) return true;
  return std::any_of(ctx.ids.begin(), ctx.ids.end(), [](const proto::Id& id) { return id.scheme == "super"; });
}

}  // namespace

std::string DigestOfAuth(std::string_view user_colon_password) {
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(user_colon_password.data()), user_colon_password.size(), md);
  const size_t colon = user_colon_password.find(':');
  std::string out(user_colon_password.substr(0, colon));
  out.push_back(':');
  out += Base64(md, sizeof md);
  return out;
}

std::string DigestId(std::string_view user, std::string_view password) {
  std::string both(user);
  both.push_back(':');
  both.append(password);
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(both.data()), both.size(), md);
  std::string out(user);
  out.push_back(':');
  out += Base64(md, sizeof md);
  return out;
}

bool IsValidDigestId(std::string_view id) {
  // Java id.split(":").length == 2 (trailing empty pieces are dropped).
  size_t pieces = 1;
  for (char c : id) pieces += c == ':' ? 1 : 0;
  size_t end = id.size();
  while (pieces > 1 && end > 0 && id[end - 1] == ':') {
    --pieces;
    --end;
  }
  if (end == 0) return false;  // "" or only colons: Java yields [""] or []
  return pieces == 2;
}

bool IsValidIpId(std::string_view id) { return ParseIpExpr(id).has_value(); }

bool IpMatches(std::string_view client_address, std::string_view acl_expr) {
  auto expr = ParseIpExpr(acl_expr);
  if (!expr) return false;
  auto remote = V4Bytes(client_address);
  if (!remote) return false;
  Mask(expr->addr, expr->bits);
  Mask(*remote, expr->bits);
  return expr->addr == *remote;
}

bool IsValidSaslId(std::string_view id) {
  // KerberosName's pattern: a name with '@' must be service[/host]@realm.
  size_t at = id.find('@');
  if (at == std::string_view::npos) return true;
  std::string_view left = id.substr(0, at), realm = id.substr(at + 1);
  if (realm.find_first_of("/@") != std::string_view::npos) return false;
  size_t slash = left.find('/');
  return slash == std::string_view::npos || left.find('/', slash + 1) == std::string_view::npos;
}

namespace {
std::atomic<bool> g_x509_enabled{false};
std::atomic<bool> g_sasl_enabled{false};
}  // namespace

void SetSaslSchemeEnabled(bool enabled) { g_sasl_enabled.store(enabled); }
bool SaslSchemeEnabled() { return g_sasl_enabled.load(std::memory_order_relaxed); }

void SetX509SchemeEnabled(bool enabled) { g_x509_enabled.store(enabled); }
bool X509SchemeEnabled() { return g_x509_enabled.load(std::memory_order_relaxed); }

bool CheckPermission(const proto::AclList& acl, int32_t perm, const SessionCtx& ctx) {
  if (acl.empty() || HasSuper(ctx)) return true;
  for (const proto::Acl& a : acl) {
    if ((a.perms & perm) == 0) continue;
    const proto::Id& id = a.id;
    if (id.scheme == "world" && id.id == "anyone") return true;
    for (const proto::Id& mine : ctx.ids) {
      if (mine.scheme != id.scheme) continue;
      if (id.scheme == "digest" && mine.id == id.id) return true;
      if (id.scheme == "ip" && IpMatches(mine.id, id.id)) return true;
      // SASLAuthenticationProvider.matches: the same id, or the sasl id "super".
      if (id.scheme == "sasl" && (mine.id == id.id || mine.id == "super") && SaslSchemeEnabled()) return true;
      if (id.scheme == "x509" && mine.id == id.id && X509SchemeEnabled()) return true;
    }
  }
  return false;
}

proto::Err FixupAcl(const proto::AclList& in, const SessionCtx& ctx, proto::AclList* out) {
  if (in.empty()) return proto::Err::kInvalidAcl;
  proto::AclList rv;
  rv.reserve(in.size());
  for (auto it = in.begin(); it != in.end(); ++it) {
    const proto::Acl& a = *it;
    if (std::find(in.begin(), it, a) != it) continue;  // a duplicate: its first occurrence counts
    const proto::Id& id = a.id;
    if (id.scheme == "world" && id.id == "anyone") {
      rv.push_back(a);
    } else if (id.scheme == "auth") {
      bool any = false;
      for (const proto::Id& mine : ctx.ids) {
        // The ids of the registered providers that authenticate (ZooKeeper's isAuthenticated).
        if (mine.scheme == "digest" || (mine.scheme == "sasl" && SaslSchemeEnabled()) ||
            (mine.scheme == "x509" && X509SchemeEnabled())) {
          any = true;
          rv.push_back(proto::Acl{a.perms, mine});
        }
      }
      if (!any) return proto::Err::kInvalidAcl;
    } else if (id.scheme == "digest") {
      if (!IsValidDigestId(id.id)) return proto::Err::kInvalidAcl;
      rv.push_back(a);
    } else if (id.scheme == "ip") {
      if (!IsValidIpId(id.id)) return proto::Err::kInvalidAcl;
      rv.push_back(a);
    } else if (id.scheme == "sasl" && SaslSchemeEnabled()) {
      if (!IsValidSaslId(id.id)) return proto::Err::kInvalidAcl;
      rv.push_back(a);
    } else if (id.scheme == "x509" && X509SchemeEnabled()) {
      rv.push_back(a);
    } else {
      return proto::Err::kInvalidAcl;
    }
  }
  *out = std::move(rv);
  return proto::Err::kOk;
}

AuthOutcome Authenticate(std::string_view scheme, std::string_view auth, std::string_view super_digest) {
  AuthOutcome r;
  if (scheme == "digest") {
    std::string digest = DigestOfAuth(auth);
    if (!super_digest.empty() && digest == super_digest) {
      r.is_super = true;
      r.ids.push_back(proto::Id{"super", ""});
    }
    r.ids.push_back(proto::Id{"digest", std::move(digest)});
    return r;
  }
  if (scheme == "ip") return r;
  r.err = proto::Err::kAuthFailed;
  return r;
}

}  // namespace aviary::txn
