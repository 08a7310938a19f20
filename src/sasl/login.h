// What ZooKeeper's server takes from its JAAS login section (default
// "Server", zookeeper.sasl.serverconfig): the DIGEST-MD5 users of every
// module's user_<name>="<password>" options (SaslServerCallbackHandler), and
// the Kerberos service principal and keytab of a Krb5LoginModule (Login).
// As ZooKeeper's SecurityUtils.createSaslServer: a Kerberos principal in the
// section makes the mechanism GSSAPI, with the principal's first component
// as service and its host part as server name; otherwise DIGEST-MD5 with
// service "zookeeper" and server name "zk-sasl-md5" (which is also the
// realm the DIGEST-MD5 challenge offers).
// Also: where ZooKeeper's scripts find the JAAS file, and the krb5.conf
// default realm (KerberosName's DEFAULT rule needs it).
// Thread use: plain data and pure functions (FindJaasPath and
// Krb5DefaultRealm read files).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sasl/jaas.h"

namespace aviary::sasl {

inline constexpr std::string_view kDigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule";
inline constexpr std::string_view kDigestService = "zookeeper";
inline constexpr std::string_view kDigestServerName = "zk-sasl-md5";

struct KerberosLogin {
  std::string principal;  // e.g. zookeeper/host.example.com@EXAMPLE.COM
  std::string keytab;     // file path
  std::string service;    // "zookeeper"
  std::string host;       // "host.example.com"
};

struct ServerLogin {
  std::map<std::string, std::string> digest_users;  // user -> password
  std::optional<KerberosLogin> kerberos;
  std::string Mechanism() const { return kerberos ? "GSSAPI" : "DIGEST-MD5"; }
};

// Builds the login of `section_name`. Errors (missing section, a module
// Aviary does not know, a Krb5LoginModule without useKeyTab/keyTab or with
// a principal not of the form service/host@REALM) name the section.
bool BuildServerLogin(const JaasConfig& jaas, std::string_view section_name, ServerLogin* out, std::string* error);

// A quorum learner's DIGEST-MD5 login (quorum SASL): the username and
// password options of the DigestLoginModule in its JAAS section (default
// "QuorumLearner", quorum.auth.learner.saslLoginContext), as ZooKeeper's
// DigestLoginModule puts them into the Subject's credentials.
struct LearnerLogin {
  std::string user;
  std::string password;
};

// Errors (missing section, no DigestLoginModule with username and password,
// a Krb5LoginModule: Kerberos between members is not implemented) name the
// section.
bool BuildLearnerLogin(const JaasConfig& jaas, std::string_view section_name, LearnerLogin* out, std::string* error);

// The JAAS file ZooKeeper's start scripts would give the JVM, in their
// order: -Djava.security.auth.login.config= in SERVER_JVMFLAGS, then in
// JVMFLAGS, then in the java.env file next to zoo.cfg (zkEnv.sh sources it:
// the option is looked for anywhere in its text). "=" may be "==" (Java's
// "replace the default" form). Empty when none names one.
std::string JaasPathFromFlags(std::string_view jvm_flags);
std::string FindJaasPath(std::string_view server_jvmflags, std::string_view jvmflags, std::string_view java_env_text);

// [libdefaults] default_realm of the krb5.conf at `path`; empty when the
// file or the setting is absent.
std::string Krb5DefaultRealm(const std::string& path);

}  // namespace aviary::sasl
