#include "client_config.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace aviary::cli {
namespace {

constexpr size_t kMaxFileBytes = 1 << 20;  // a client configuration is a few lines

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\f\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\f\r") - b + 1);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

// One logical line (continuations joined) into key and value: the key ends
// at the first unescaped '=', ':' or blank, as java.util.Properties.
std::pair<std::string, std::string> SplitLine(const std::string& line) {
  size_t i = 0;
  std::string key;
  for (; i < line.size(); i++) {
    char c = line[i];
    if (c == '\\' && i + 1 < line.size()) {
      key += line[++i];
      continue;
    }
    if (c == '=' || c == ':' || c == ' ' || c == '\t' || c == '\f') break;
    key += c;
  }
  std::string rest = Trim(line.substr(std::min(i, line.size())));
  if (!rest.empty() && (rest[0] == '=' || rest[0] == ':')) rest = Trim(rest.substr(1));
  return {key, rest};
}

// Keys that only matter for a TLS connection or a JAAS login, which zkCli.sh
// also ignores without zookeeper.client.secure=true / a JAAS file.
bool InertWithoutTlsOrJaas(const std::string& key) {
  return StartsWith(key, "zookeeper.ssl.") || StartsWith(key, "zookeeper.sasl.") ||
         key == "zookeeper.clientCnxnSocket" || key == "zookeeper.server.principal" || key == "zookeeper.server.realm";
}

}  // namespace

bool ReadProperties(const std::string& path, std::vector<std::pair<std::string, std::string>>* out,
                    std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = "cannot read " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.size() > kMaxFileBytes) {
    *error = path + " is larger than 1 MiB; not a client configuration";
    return false;
  }
  std::istringstream lines(text);
  std::string raw, logical;
  while (std::getline(lines, raw)) {
    std::string t = Trim(raw);
    if (logical.empty() && (t.empty() || t[0] == '#' || t[0] == '!')) continue;
    size_t slashes = 0;  // an odd number of trailing backslashes continues the line
    while (slashes < t.size() && t[t.size() - 1 - slashes] == '\\') slashes++;
    if (slashes % 2 == 1) {
      logical += t.substr(0, t.size() - 1);
      continue;
    }
    logical += t;
    out->push_back(SplitLine(logical));
    logical.clear();
  }
  if (!logical.empty()) out->push_back(SplitLine(logical));
  return true;
}

bool CheckClientConfiguration(const std::vector<std::pair<std::string, std::string>>& props, std::string* error,
                              std::vector<std::string>* warnings, client::ClientTlsOptions* tls) {
  std::vector<std::string> unused_ssl;
  for (const auto& [key, value] : props) {
    if (key == "zookeeper.client.secure") {
      tls->enabled = Lower(value) == "true";  // Boolean.parseBoolean
      continue;
    }
    if (key == "zookeeper.sasl.clientconfig") {  // a JAAS section named: the user wants a SASL login
      *error = "zookeeper.sasl.clientconfig=" + value + ": aviary has no SASL client; use zkCli.sh for SASL";
      return false;
    }
    if (StartsWith(key, "zookeeper.ssl.")) {
      const std::string k = key.substr(14);
      tls::StoreOptions* store = StartsWith(k, "keyStore.")     ? &tls->key_store
                                 : StartsWith(k, "trustStore.") ? &tls->trust_store
                                                                : nullptr;
      const std::string field = store == nullptr ? "" : k.substr(k.find('.') + 1);
      if (field == "location") {
        store->location = value;
      } else if (field == "password") {
        store->password = value;
      } else if (field == "passwordPath") {
        store->password_path = value;
      } else if (field == "type") {
        store->type = value;
      } else if (k == "hostnameVerification") {
        tls->hostname_verification = Lower(value) != "false";
      } else {
        unused_ssl.push_back(key);
      }
      continue;
    }
    if (InertWithoutTlsOrJaas(key)) continue;
    warnings->push_back(key + " is not used by aviary");
  }
  // Without TLS, zkCli.sh ignores the zookeeper.ssl.* keys too.
  if (tls->enabled) {
    for (const std::string& k : unused_ssl) warnings->push_back(k + " is not used by aviary");
  }
  return true;
}

}  // namespace aviary::cli
