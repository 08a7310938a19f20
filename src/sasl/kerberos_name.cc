#include "sasl/kerberos_name.h"

namespace aviary::sasl {

std::optional<KerberosName> ParseKerberosName(std::string_view name) {
  KerberosName k;
  size_t at = name.find('@');
  if (at == std::string_view::npos) {
    k.service = std::string(name);  // no realm: the whole name, '/' included
    return k;
  }
  std::string_view left = name.substr(0, at);
  std::string_view realm = name.substr(at + 1);
  if (realm.find_first_of("/@") != std::string_view::npos) return std::nullopt;
  size_t slash = left.find('/');
  if (slash != std::string_view::npos) {
    std::string_view host = left.substr(slash + 1);
    if (host.find('/') != std::string_view::npos) return std::nullopt;
    k.host = std::string(host);
    left = left.substr(0, slash);
  }
  k.service = std::string(left);
  k.realm = std::string(realm);
  return k;
}

std::string SaslAuthorizedId(std::string_view authentication_id, std::string_view default_realm, bool remove_host,
                             bool remove_realm) {
  std::optional<KerberosName> k = ParseKerberosName(authentication_id);
  if (!k) return std::string(authentication_id);
  if (!k->realm) return k->service;
  // DEFAULT rule: only names of the default realm have a short name.
  if (*k->realm != default_realm) return std::string(authentication_id);
  std::string id = k->service;
  if (!remove_host && k->host) id += "/" + *k->host;
  if (!remove_realm) id += "@" + *k->realm;
  return id;
}

}  // namespace aviary::sasl
