// JAAS login configuration files (java.security.auth.login.config), read as
// Java's ConfigFile reads them, for the sections ZooKeeper's server uses:
//
//   Server {
//     org.apache.zookeeper.server.auth.DigestLoginModule required
//       user_bob="secret";
//     com.sun.security.auth.module.Krb5LoginModule required
//       useKeyTab=true keyTab="/etc/zk.keytab" principal="zookeeper/host@REALM";
//   };
//
// Owns: the parsed file as plain data (sections of login modules with their
// control flag and options, in file order). Comments are // and /* */ (and
// '#' to the end of the line); values are words or "quoted" strings with
// backslash escapes. ${property} expansion is not done (a value keeps it).
// Errors are values ("line 3: expected '{' after section name 'Server'");
// any input, however malformed, is refused cleanly (bounded: kMaxJaasBytes).
// Thread use: pure functions, plain data.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aviary::sasl {

inline constexpr size_t kMaxJaasBytes = 1 << 20;

struct JaasModule {
  std::string login_module;  // class name
  std::string control_flag;  // required | requisite | sufficient | optional (lower case)
  std::vector<std::pair<std::string, std::string>> options;  // in file order; a repeated key keeps the last
  // The option's value, or null.
  const std::string* Option(std::string_view key) const;
};

struct JaasSection {
  std::string name;
  std::vector<JaasModule> modules;
};

struct JaasConfig {
  std::vector<JaasSection> sections;
  const JaasSection* Find(std::string_view name) const;  // null when absent
};

// Parses a whole file's text. False with *error ("line N: ...") when the
// text is not a valid JAAS configuration (a section repeated is an error, as
// in Java); *out is written only on success.
bool ParseJaas(std::string_view text, JaasConfig* out, std::string* error);

// Reads (at most kMaxJaasBytes) and parses the file at `path`; errors name it.
bool LoadJaasFile(const std::string& path, JaasConfig* out, std::string* error);

}  // namespace aviary::sasl
