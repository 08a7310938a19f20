#include "sasl/login.h"

#include <fmt/core.h>

#include <fstream>

namespace aviary::sasl {
namespace {

constexpr std::string_view kUserPrefix = "user_";

bool IsTrue(const std::string* v) { return v != nullptr && (*v == "true" || *v == "TRUE" || *v == "True"); }

bool KerberosModule(std::string_view section, const JaasModule& m, ServerLogin* out, std::string* error) {
  auto fail = [&](std::string_view why) {
    *error = fmt::format("JAAS section '{}': {}: {}", section, m.login_module, why);
    return false;
  };
  if (out->kerberos) return fail("a second Kerberos login module (Aviary uses one service principal)");
  // IBM's module names the keytab in useKeytab="file:/path" instead.
  const std::string* ibm_keytab = m.Option("useKeytab");
  bool ibm = ibm_keytab != nullptr && !ibm_keytab->empty() && *ibm_keytab != "true" && *ibm_keytab != "false";
  if (!ibm && !IsTrue(m.Option("useKeyTab"))) {
    return fail("useKeyTab=true is required (Aviary reads no ticket cache)");
  }
  const std::string* keytab = ibm ? ibm_keytab : m.Option("keyTab");
  if (keytab == nullptr || keytab->empty()) return fail("keyTab is required");
  const std::string* principal = m.Option("principal");
  if (principal == nullptr) return fail("principal is required");
  // SecurityUtils.createSaslServer splits the principal at the first '/'
  // and the first '@' after it.
  size_t slash = principal->find('/');
  size_t at = slash == std::string::npos ? std::string::npos : principal->find('@', slash + 1);
  if (slash == std::string::npos || slash == 0 || at == std::string::npos || at == slash + 1) {
    return fail(fmt::format("principal '{}' is not of the form service/host@REALM", *principal));
  }
  KerberosLogin k;
  k.principal = *principal;
  k.keytab = keytab->starts_with("file:") ? keytab->substr(5) : *keytab;
  k.service = principal->substr(0, slash);
  k.host = principal->substr(slash + 1, at - slash - 1);
  out->kerberos = std::move(k);
  return true;
}

std::string Unquote(std::string_view v) {
  while (!v.empty() && (v.front() == '"' || v.front() == '\'')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == '"' || v.back() == '\'')) v.remove_suffix(1);
  return std::string(v);
}

}  // namespace

bool BuildLearnerLogin(const JaasConfig& jaas, std::string_view section_name, LearnerLogin* out, std::string* error) {
  const JaasSection* sec = jaas.Find(section_name);
  if (sec == nullptr) {
    *error = fmt::format("no JAAS section named '{}' (quorum.auth.learner.saslLoginContext)", section_name);
    return false;
  }
  for (const JaasModule& m : sec->modules) {
    if (m.login_module.ends_with(".Krb5LoginModule")) {
      *error = fmt::format(
          "JAAS section '{}': {}: Kerberos (GSSAPI) between ensemble members is not implemented by Aviary "
          "(quorum.auth.enableSasl works with DIGEST-MD5: {} with username and password)",
          section_name, m.login_module, kDigestLoginModule);
      return false;
    }
    if (m.login_module != kDigestLoginModule) continue;
    const std::string* user = m.Option("username");
    const std::string* password = m.Option("password");
    if (user == nullptr || password == nullptr) continue;
    out->user = *user;
    out->password = *password;
    return true;
  }
  *error = fmt::format("JAAS section '{}': no {} with username and password", section_name, kDigestLoginModule);
  return false;
}

bool BuildServerLogin(const JaasConfig& jaas, std::string_view section_name, ServerLogin* out, std::string* error) {
  const JaasSection* sec = jaas.Find(section_name);
  if (sec == nullptr) {
    *error = fmt::format("no JAAS section named '{}' (zookeeper.sasl.serverconfig)", section_name);
    return false;
  }
  ServerLogin login;
  for (const JaasModule& m : sec->modules) {
    // Every module's user_ options are DIGEST-MD5 users, as ZooKeeper reads them.
    for (const auto& [k, v] : m.options) {
      if (k.starts_with(kUserPrefix) && k.size() > kUserPrefix.size())
        login.digest_users[k.substr(kUserPrefix.size())] = v;
    }
    if (m.login_module == kDigestLoginModule) continue;
    if (m.login_module.ends_with(".Krb5LoginModule")) {
      if (!KerberosModule(section_name, m, &login, error)) return false;
      continue;
    }
    *error = fmt::format(
        "JAAS section '{}': login module {} is not supported by Aviary (supported: {}, "
        "com.sun.security.auth.module.Krb5LoginModule)",
        section_name, m.login_module, kDigestLoginModule);
    return false;
  }
  *out = std::move(login);
  return true;
}

std::string JaasPathFromFlags(std::string_view flags) {
  constexpr std::string_view kOpt = "-Djava.security.auth.login.config=";
  std::string found;
  size_t pos = 0;
  while ((pos = flags.find(kOpt, pos)) != std::string_view::npos) {
    pos += kOpt.size();
    if (pos < flags.size() && flags[pos] == '=') ++pos;
    size_t end = pos;
    while (end < flags.size() && flags[end] != ' ' && flags[end] != '\t' && flags[end] != '\n') ++end;
    found = Unquote(flags.substr(pos, end - pos));  // the last one wins, as for the JVM
    pos = end;
  }
  return found;
}

std::string FindJaasPath(std::string_view server_jvmflags, std::string_view jvmflags, std::string_view java_env_text) {
  for (std::string_view flags : {server_jvmflags, jvmflags, java_env_text}) {
    std::string p = JaasPathFromFlags(flags);
    if (!p.empty()) return p;
  }
  return {};
}

std::string Krb5DefaultRealm(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  bool in_libdefaults = false;
  for (int n = 0; n < 100000 && std::getline(in, line); ++n) {
    std::string_view l = line;
    while (!l.empty() && (l.front() == ' ' || l.front() == '\t')) l.remove_prefix(1);
    while (!l.empty() && (l.back() == ' ' || l.back() == '\t' || l.back() == '\r')) l.remove_suffix(1);
    if (l.starts_with("[")) {
      in_libdefaults = l == "[libdefaults]";
      continue;
    }
    if (!in_libdefaults || !l.starts_with("default_realm")) continue;
    size_t eq = l.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view v = l.substr(eq + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    return std::string(v);
  }
  return {};
}

}  // namespace aviary::sasl
