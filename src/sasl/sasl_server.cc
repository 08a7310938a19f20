#include "sasl/sasl_server.h"

#include <fmt/core.h>
#include <sasl/sasl.h>
#include <sasl/saslplug.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <vector>

#include "base/log.h"
#include "sasl/kerberos_name.h"

namespace aviary::sasl {
namespace {

char kPluginName[] = "aviary-memory";
constexpr std::string_view kSecretOption = "aviary_secret:";

using CallbackProc = int (*)();

// Cyrus stores every callback as int(*)(); void(*)() in between is the
// cast GCC accepts for any function type.
template <typename F>
CallbackProc Proc(F* f) {
  return reinterpret_cast<CallbackProc>(reinterpret_cast<void (*)()>(f));
}

int LogCallback(void*, int level, const char* message) {
  if (message != nullptr && level <= SASL_LOG_WARN) AV_LOG(kDebug, "cyrus sasl: {}", message);
  return SASL_OK;
}

// Process-wide options: only the in-memory auxprop plugin is ever asked for
// user properties (never a sasldb file).
int GlobalGetopt(void*, const char*, const char* option, const char** result, unsigned* len) {
  if (option != nullptr && std::strcmp(option, "auxprop_plugin") == 0) {
    *result = kPluginName;
    if (len != nullptr) *len = static_cast<unsigned>(std::strlen(kPluginName));
    return SASL_OK;
  }
  return SASL_FAIL;
}

// The auxprop lookup: the password of `user`, asked of the connection's own
// GETOPT callback (Exchange's), set as "*userPassword" for DIGEST-MD5.
int AuxpropLookup(void*, sasl_server_params_t* sparams, unsigned flags, const char* user, unsigned ulen) {
  if (sparams == nullptr || user == nullptr) return SASL_BADPARAM;
  if ((flags & SASL_AUXPROP_AUTHZID) != 0) return SASL_OK;  // nothing is stored for authorization ids
  std::string option = std::string(kSecretOption) + std::string(user, ulen);
  const char* secret = nullptr;
  unsigned secret_len = 0;
  if (sparams->utils->getopt(sparams->utils->getopt_context, kPluginName, option.c_str(), &secret, &secret_len) !=
          SASL_OK ||
      secret == nullptr) {
    return SASL_NOUSER;
  }
  const propval* props = sparams->utils->prop_get(sparams->propctx);
  if (props == nullptr) return SASL_NOMEM;
  for (const propval* p = props; p->name != nullptr; ++p) {
    if (p->name[0] != '*' || strcasecmp(p->name + 1, SASL_AUX_PASSWORD_PROP) != 0) continue;
    if (p->values != nullptr) {
      if ((flags & SASL_AUXPROP_OVERRIDE) == 0) continue;
      sparams->utils->prop_erase(sparams->propctx, p->name);
    }
    sparams->utils->prop_set(sparams->propctx, p->name, secret, static_cast<int>(secret_len));
  }
  return SASL_OK;
}

sasl_auxprop_plug_t kAuxprop = {0, 0, nullptr, nullptr, &AuxpropLookup, kPluginName, nullptr};

int AuxpropInit(const sasl_utils_t*, int max_version, int* out_version, sasl_auxprop_plug_t** plug, const char*) {
  if (max_version < SASL_AUXPROP_PLUG_VERSION) return SASL_BADVERS;
  *out_version = SASL_AUXPROP_PLUG_VERSION;
  *plug = &kAuxprop;
  return SASL_OK;
}

sasl_callback_t kGlobalCallbacks[] = {
    {SASL_CB_LOG, Proc(&LogCallback), nullptr},
    {SASL_CB_GETOPT, Proc(&GlobalGetopt), nullptr},
    {SASL_CB_LIST_END, nullptr, nullptr},
};

std::once_flag g_init_once;
int g_init_rc = SASL_FAIL;

int InitCyrus() {
  std::call_once(g_init_once, [] {
    g_init_rc = sasl_server_init(kGlobalCallbacks, "aviary");
    if (g_init_rc == SASL_OK) g_init_rc = sasl_auxprop_add_plugin(kPluginName, &AuxpropInit);
  });
  return g_init_rc;
}

bool MechanismInstalled(std::string_view mech) {
  const char** list = sasl_global_listmech();
  for (; list != nullptr && *list != nullptr; ++list) {
    if (mech == *list) return true;
  }
  return false;
}

// RFC 2831 limits a DIGEST-MD5 digest-response to 4096 bytes with each
// directive at most once. Cyrus' DIGEST-MD5 server leaks the earlier value
// of a repeated username, authzid, nonce, cnonce, response or cipher, so a
// response breaking either rule is refused before Cyrus sees it (a client
// reconnecting with such tokens would otherwise grow the server's memory).
constexpr size_t kMaxDigestResponseBytes = 4096;

bool DigestResponseSane(std::string_view t, std::string* why) {
  if (t.size() >= kMaxDigestResponseBytes) {
    *why = fmt::format("a DIGEST-MD5 response of {} bytes (RFC 2831: under {})", t.size(), kMaxDigestResponseBytes);
    return false;
  }
  std::vector<std::string> names;
  size_t i = 0;
  while (i < t.size()) {
    while (i < t.size() && (t[i] == ',' || t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n')) ++i;
    if (i >= t.size()) break;
    size_t eq = t.find('=', i);
    if (eq == std::string_view::npos) break;  // Cyrus rejects it
    std::string name(t.substr(i, eq - i));
    while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.pop_back();
    for (char& c : name) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      *why = fmt::format("directive '{}' repeated in a DIGEST-MD5 response", name);
      return false;
    }
    names.push_back(std::move(name));
    i = eq + 1;
    while (i < t.size() && (t[i] == ' ' || t[i] == '\t')) ++i;
    if (i < t.size() && t[i] == '"') {
      for (++i; i < t.size() && t[i] != '"'; ++i) i += t[i] == '\\';
      ++i;
    } else {
      while (i < t.size() && t[i] != ',') ++i;
    }
  }
  return true;
}

}  // namespace

// Per-connection callbacks: the secrets of this Authenticator only.
struct Exchange::Callbacks {
  const Authenticator* auth = nullptr;
  sasl_callback_t list[4];

  static int Getopt(void* ctx, const char*, const char* option, const char** result, unsigned* len) {
    auto* self = static_cast<Callbacks*>(ctx);
    if (option == nullptr) return SASL_FAIL;
    std::string_view opt = option;
    const std::string* value = nullptr;
    std::string_view fixed;
    if (opt.starts_with(kSecretOption)) {
      value = self->auth->SecretOf(opt.substr(kSecretOption.size()));
      if (value == nullptr) return SASL_FAIL;
      fixed = *value;
    } else if (opt == "auxprop_plugin") {
      fixed = kPluginName;
    } else if (opt == "mech_list") {
      fixed = self->auth->mechanism();
    } else {
      return SASL_FAIL;
    }
    *result = fixed.data();
    if (len != nullptr) *len = static_cast<unsigned>(fixed.size());
    return SASL_OK;
  }
  // ZooKeeper authorizes every authenticated client (its AuthorizeCallback
  // says yes) and takes its identity from the authentication id.
  static int ProxyPolicy(sasl_conn_t*, void*, const char*, unsigned, const char*, unsigned, const char*, unsigned,
                         struct propctx*) {
    return SASL_OK;
  }
};

Authenticator::Authenticator(AuthenticatorOptions options) : options_(std::move(options)) {
  mechanism_ = options_.login.Mechanism();
  if (options_.login.kerberos) {
    service_ = options_.login.kerberos->service;
    server_name_ = options_.login.kerberos->host;
  } else {
    service_ = options_.digest_service;
    server_name_ = options_.digest_server_name;
  }
}

Authenticator::~Authenticator() = default;

std::unique_ptr<Authenticator> Authenticator::Create(AuthenticatorOptions options, std::string* error) {
  int rc = InitCyrus();
  if (rc != SASL_OK) {
    *error = fmt::format("cannot initialise Cyrus SASL: {}", sasl_errstring(rc, nullptr, nullptr));
    return nullptr;
  }
  std::unique_ptr<Authenticator> a(new Authenticator(std::move(options)));
  if (!MechanismInstalled(a->mechanism_)) {
    *error = fmt::format("the Cyrus SASL mechanism {} is not installed (Debian: {})", a->mechanism_,
                         a->mechanism_ == "GSSAPI" ? "libsasl2-modules-gssapi-mit" : "libsasl2-modules");
    return nullptr;
  }
  return a;
}

const std::string* Authenticator::SecretOf(std::string_view user) const {
  if (user == "super" && !options_.super_password.empty()) return &options_.super_password;
  auto it = options_.login.digest_users.find(std::string(user));
  return it == options_.login.digest_users.end() ? nullptr : &it->second;
}

std::unique_ptr<Exchange> Authenticator::Begin(std::string* error) {
  std::unique_ptr<Exchange> x(new Exchange(this));
  Exchange::Callbacks& cb = *x->cb_;
  cb.list[0] = {SASL_CB_GETOPT, Proc(&Exchange::Callbacks::Getopt), &cb};
  cb.list[1] = {SASL_CB_LOG, Proc(&LogCallback), nullptr};
  cb.list[2] = {SASL_CB_PROXY_POLICY, Proc(&Exchange::Callbacks::ProxyPolicy), nullptr};
  cb.list[3] = {SASL_CB_LIST_END, nullptr, nullptr};
  int rc = sasl_server_new(service_.c_str(), server_name_.c_str(), nullptr, nullptr, nullptr, cb.list,
                           SASL_SUCCESS_DATA, &x->conn_);
  if (rc != SASL_OK) {
    *error = fmt::format("sasl_server_new: {}", sasl_errstring(rc, nullptr, nullptr));
    return nullptr;
  }
  // No security layer: ZooKeeper's clients ask for qop "auth" only.
  sasl_security_properties_t props{};
  props.min_ssf = 0;
  props.max_ssf = 0;
  props.maxbufsize = 65536;
  rc = sasl_setprop(x->conn_, SASL_SEC_PROPS, &props);
  if (rc != SASL_OK) {
    *error = fmt::format("sasl_setprop: {}", sasl_errdetail(x->conn_));
    return nullptr;
  }
  return x;
}

Exchange::Exchange(const Authenticator* auth) : auth_(auth), cb_(std::make_unique<Callbacks>()) { cb_->auth = auth; }

Exchange::~Exchange() {
  if (conn_ != nullptr) sasl_dispose(&conn_);
}

StepResult Exchange::Step(std::string_view client_token) {
  StepResult r;
  if (done_) {
    r.error = "the SASL exchange is already over";
    return r;
  }
  if (client_token.size() > kMaxSaslTokenBytes) {
    done_ = true;
    sasl_dispose(&conn_);
    r.error = fmt::format("a SASL token of {} bytes (at most {})", client_token.size(), kMaxSaslTokenBytes);
    return r;
  }
  if (started_ && auth_->mechanism() == "DIGEST-MD5" && !DigestResponseSane(client_token, &r.error)) {
    done_ = true;
    sasl_dispose(&conn_);
    return r;
  }
  const char* out = nullptr;
  unsigned out_len = 0;
  int rc;
  if (!started_) {
    started_ = true;
    rc = sasl_server_start(conn_, auth_->mechanism().c_str(), client_token.empty() ? nullptr : client_token.data(),
                           static_cast<unsigned>(client_token.size()), &out, &out_len);
  } else {
    rc = sasl_server_step(conn_, client_token.data(), static_cast<unsigned>(client_token.size()), &out, &out_len);
  }
  return Finish(rc, out, out_len);
}

StepResult Exchange::Finish(int rc, const char* out, unsigned out_len) {
  StepResult r;
  if (out != nullptr) {
    r.token.assign(out, out_len);
    r.token_null = false;
  }
  if (rc == SASL_CONTINUE) {
    r.status = StepResult::kContinue;
    return r;
  }
  done_ = true;
  if (rc != SASL_OK) {
    r.token.clear();
    r.token_null = true;
    r.error = fmt::format("{} ({})", sasl_errstring(rc, nullptr, nullptr), sasl_errdetail(conn_));
    sasl_dispose(&conn_);  // over: the connection keeps no Cyrus state
    return r;
  }
  const void* user = nullptr;
  if (sasl_getprop(conn_, SASL_AUTHUSER, &user) != SASL_OK || user == nullptr) {
    r.error = "no authenticated user";
    sasl_dispose(&conn_);
    return r;
  }
  std::string authid = static_cast<const char*>(user);
  sasl_dispose(&conn_);
  const AuthenticatorOptions& o = auth_->options();
  // Cyrus' GSSAPI drops the realm of a principal of the default realm;
  // ZooKeeper's Java server sees the whole principal.
  if (o.login.kerberos && authid.find('@') == std::string::npos && !o.default_realm.empty()) {
    authid += "@" + o.default_realm;
  }
  r.status = StepResult::kSuccess;
  r.id = SaslAuthorizedId(authid, o.default_realm, o.remove_host, o.remove_realm);
  return r;
}

void ConfigureKeytab(const std::string& keytab) { setenv("KRB5_KTNAME", keytab.c_str(), 1); }

}  // namespace aviary::sasl
