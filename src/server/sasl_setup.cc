#include "server/sasl_setup.h"

#include <fmt/core.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/log.h"
#include "sasl/jaas.h"
#include "sasl/login.h"

namespace aviary::server {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::string text(64 * 1024, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  return text;
}

std::string JavaEnvPath(const std::string& config_path) {
  size_t slash = config_path.rfind('/');
  return (slash == std::string::npos ? std::string(".") : config_path.substr(0, slash)) + "/java.env";
}

// The krb5.conf MIT Kerberos reads: the first of KRB5_CONFIG's files, else /etc/krb5.conf.
std::string Krb5ConfPath() {
  std::string env = Env("KRB5_CONFIG");
  if (!env.empty()) return env.substr(0, env.find(':'));
  return "/etc/krb5.conf";
}

// The JAAS file: aviary.sasl.jaasConfig, else where ZooKeeper's scripts
// point the JVM. Empty *path when none is named.
void FindJaas(const config::ServerConfig& cfg, const std::string& config_path, std::string* path, std::string* where) {
  *where = "aviary.sasl.jaasConfig";
  *path = cfg.sasl.jaas_config;
  if (path->empty()) {
    std::string java_env = JavaEnvPath(config_path);
    *path = sasl::FindJaasPath(Env("SERVER_JVMFLAGS"), Env("JVMFLAGS"), ReadSmallFile(java_env));
    *where = "-Djava.security.auth.login.config (SERVER_JVMFLAGS, JVMFLAGS or " + java_env + ")";
  }
}

}  // namespace

bool SetUpQuorumAuth(const config::ServerConfig& cfg, const std::string& config_path, peer::QuorumSaslSettings* out,
                     std::string* error) {
  const config::ServerConfig::QuorumSasl& q = cfg.quorum_sasl;
  out->enable = q.enable;
  out->learner_require = q.learner_require;
  out->server_require = q.server_require;
  if (!q.enable) return true;
  std::string path, where;
  FindJaas(cfg, config_path, &path, &where);
  if (path.empty()) {
    *error = fmt::format(
        "quorum.auth.enableSasl=true but no JAAS configuration was found: set aviary.sasl.jaasConfig in zoo.cfg, or "
        "-Djava.security.auth.login.config= in SERVER_JVMFLAGS or {}",
        JavaEnvPath(config_path));
    return false;
  }
  sasl::JaasConfig jaas;
  if (!sasl::LoadJaasFile(path, &jaas, error)) return false;
  // Both sections are needed whatever the require flags say, as
  // QuorumPeer.initialize builds both SaslQuorumAuthServer and ...Learner.
  if (!sasl::BuildServerLogin(jaas, q.server_context, &out->server, error)) {
    *error = fmt::format("quorum.auth.enableSasl=true: JAAS configuration {} (quorum.auth.server.saslLoginContext): {}",
                         path, *error);
    return false;
  }
  if (out->server.kerberos) {
    *error = fmt::format(
        "quorum.auth.enableSasl=true: JAAS configuration {}, section '{}': a Krb5LoginModule; Kerberos (GSSAPI) "
        "between ensemble members (quorum.auth.kerberos.servicePrincipal={}) is not implemented by Aviary: use "
        "DIGEST-MD5 (user_<name>=\"<password>\" in {}, username and password in {})",
        path, q.server_context, q.service_principal, q.server_context, q.learner_context);
    return false;
  }
  if (!sasl::BuildLearnerLogin(jaas, q.learner_context, &out->learner, error)) {
    *error = fmt::format(
        "quorum.auth.enableSasl=true: JAAS configuration {} (quorum.auth.learner.saslLoginContext): {}", path, *error);
    return false;
  }
  AV_LOG(kInfo,
         "quorum SASL: DIGEST-MD5, {} QuorumServer user(s), learner '{}' (JAAS {} from {}; learnerRequireSasl={}, "
         "serverRequireSasl={})",
         out->server.digest_users.size(), out->learner.user, path, where, q.learner_require, q.server_require);
  return true;
}

bool SetUpClientAuth(const config::ServerConfig& cfg, const std::string& config_path, CoreOptions* core,
                     std::string* error) {
  core->enforce_auth = cfg.enforce_auth_enabled;
  core->enforce_auth_schemes = cfg.enforce_auth_schemes;
  core->sasl_super_users = cfg.sasl.super_users;
  core->allow_sasl_failed_clients = cfg.sasl.allow_failed_clients;
  if (!cfg.sasl.provider) return true;
  std::string path, where;
  FindJaas(cfg, config_path, &path, &where);
  if (path.empty()) {
    *error = fmt::format(
        "authProvider names the SASLAuthenticationProvider but no JAAS configuration was found: set "
        "aviary.sasl.jaasConfig in zoo.cfg, or -Djava.security.auth.login.config= in SERVER_JVMFLAGS or {}",
        JavaEnvPath(config_path));
    return false;
  }
  sasl::JaasConfig jaas;
  if (!sasl::LoadJaasFile(path, &jaas, error)) return false;
  sasl::AuthenticatorOptions opts;
  if (!sasl::BuildServerLogin(jaas, cfg.sasl.login_context, &opts.login, error)) {
    *error = fmt::format("JAAS configuration {}: {}", path, *error);
    return false;
  }
  if (opts.login.kerberos) {
    const std::string& keytab = opts.login.kerberos->keytab;
    if (access(keytab.c_str(), R_OK) != 0) {
      *error = fmt::format("JAAS configuration {}: keyTab {} cannot be read", path, keytab);
      return false;
    }
    sasl::ConfigureKeytab(keytab);
  }
  opts.default_realm = sasl::Krb5DefaultRealm(Krb5ConfPath());
  opts.remove_host = cfg.sasl.remove_host;
  opts.remove_realm = cfg.sasl.remove_realm;
  opts.super_password = cfg.sasl.super_password;
  const std::string mech = opts.login.Mechanism();
  const size_t users = opts.login.digest_users.size();
  std::string principal = opts.login.kerberos ? opts.login.kerberos->principal : "";
  core->server_principal = principal;
  core->sasl = sasl::Authenticator::Create(std::move(opts), error);
  if (!core->sasl) return false;
  if (mech == "GSSAPI") {
    AV_LOG(kInfo, "SASL: GSSAPI as {} (JAAS {} from {}, section {})", principal, path, where, cfg.sasl.login_context);
  } else {
    AV_LOG(kInfo, "SASL: DIGEST-MD5 with {} user(s) (JAAS {} from {}, section {})", users, path, where,
           cfg.sasl.login_context);
  }
  return true;
}

}  // namespace aviary::server
