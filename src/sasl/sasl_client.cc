#include "sasl/sasl_client.h"

#include <fmt/core.h>
#include <sasl/sasl.h>

#include <cstring>
#include <mutex>
#include <vector>

#include "base/log.h"
#include "sasl/sasl_server.h"

namespace aviary::sasl {
namespace {

using CallbackProc = int (*)();

template <typename F>
CallbackProc Proc(F* f) {
  return reinterpret_cast<CallbackProc>(reinterpret_cast<void (*)()>(f));
}

std::once_flag g_client_once;
int g_client_rc = SASL_FAIL;

int InitClient() {
  std::call_once(g_client_once, [] { g_client_rc = sasl_client_init(nullptr); });
  return g_client_rc;
}

int ClientLog(void*, int level, const char* message) {
  if (message != nullptr && level <= SASL_LOG_WARN) AV_LOG(kDebug, "cyrus sasl client: {}", message);
  return SASL_OK;
}

}  // namespace

struct DigestClient::Callbacks {
  std::string user;
  std::vector<unsigned char> secret;  // sasl_secret_t: length, then the bytes
  sasl_callback_t list[6];

  static int Simple(void* ctx, int id, const char** result, unsigned* len) {
    auto* self = static_cast<Callbacks*>(ctx);
    if (id == SASL_CB_AUTHNAME) {
      *result = self->user.c_str();
      if (len != nullptr) *len = static_cast<unsigned>(self->user.size());
      return SASL_OK;
    }
    if (id == SASL_CB_USER) {  // no authorization id: the authentication id is used
      *result = "";
      if (len != nullptr) *len = 0;
      return SASL_OK;
    }
    return SASL_FAIL;
  }
  static int Pass(sasl_conn_t*, void* ctx, int id, sasl_secret_t** out) {
    auto* self = static_cast<Callbacks*>(ctx);
    if (id != SASL_CB_PASS || out == nullptr) return SASL_BADPARAM;
    *out = reinterpret_cast<sasl_secret_t*>(self->secret.data());
    return SASL_OK;
  }
  static int Realm(void*, int id, const char** available, const char** result) {
    if (id != SASL_CB_GETREALM || result == nullptr) return SASL_BADPARAM;
    *result = available != nullptr && available[0] != nullptr ? available[0] : "";
    return SASL_OK;
  }
};

std::unique_ptr<DigestClient> DigestClient::Create(std::string service, std::string server_name, std::string user,
                                                   std::string password, std::string* error) {
  int rc = InitClient();
  if (rc != SASL_OK) {
    *error = fmt::format("cannot initialise Cyrus SASL's client side: {}", sasl_errstring(rc, nullptr, nullptr));
    return nullptr;
  }
  std::unique_ptr<DigestClient> c(new DigestClient());
  c->cb_ = std::make_unique<Callbacks>();
  Callbacks& cb = *c->cb_;
  cb.user = std::move(user);
  cb.secret.resize(sizeof(sasl_secret_t) + password.size() + 1, 0);
  auto* secret = reinterpret_cast<sasl_secret_t*>(cb.secret.data());
  secret->len = password.size();
  std::memcpy(secret->data, password.data(), password.size());
  cb.list[0] = {SASL_CB_AUTHNAME, Proc(&Callbacks::Simple), &cb};
  cb.list[1] = {SASL_CB_USER, Proc(&Callbacks::Simple), &cb};
  cb.list[2] = {SASL_CB_PASS, Proc(&Callbacks::Pass), &cb};
  cb.list[3] = {SASL_CB_GETREALM, Proc(&Callbacks::Realm), &cb};
  cb.list[4] = {SASL_CB_LOG, Proc(&ClientLog), nullptr};
  cb.list[5] = {SASL_CB_LIST_END, nullptr, nullptr};
  rc = sasl_client_new(service.c_str(), server_name.c_str(), nullptr, nullptr, cb.list, 0, &c->conn_);
  if (rc != SASL_OK) {
    *error = fmt::format("sasl_client_new: {}", sasl_errstring(rc, nullptr, nullptr));
    return nullptr;
  }
  sasl_security_properties_t props{};
  props.min_ssf = 0;
  props.max_ssf = 0;  // qop "auth": ZooKeeper's quorum server offers no security layer
  props.maxbufsize = 65536;
  rc = sasl_setprop(c->conn_, SASL_SEC_PROPS, &props);
  if (rc != SASL_OK) {
    *error = fmt::format("sasl_setprop: {}", sasl_errdetail(c->conn_));
    return nullptr;
  }
  return c;
}

DigestClient::~DigestClient() {
  if (conn_ != nullptr) sasl_dispose(&conn_);
}

ClientStep DigestClient::Start() {
  ClientStep r;
  if (conn_ == nullptr || failed_) {
    r.error = "the SASL client is not usable";
    return r;
  }
  sasl_interact_t* prompts = nullptr;
  const char* out = nullptr;
  unsigned out_len = 0;
  const char* mech = nullptr;
  int rc = sasl_client_start(conn_, "DIGEST-MD5", &prompts, &out, &out_len, &mech);
  if (rc != SASL_CONTINUE && rc != SASL_OK) {
    failed_ = true;
    r.error = fmt::format("sasl_client_start: {} ({})", sasl_errstring(rc, nullptr, nullptr), sasl_errdetail(conn_));
    return r;
  }
  if (out != nullptr) r.token.assign(out, out_len);
  complete_ = rc == SASL_OK;
  r.status = complete_ ? ClientStep::kComplete : ClientStep::kContinue;
  return r;
}

ClientStep DigestClient::Step(std::string_view challenge) {
  ClientStep r;
  if (conn_ == nullptr || failed_ || complete_) {
    r.error = complete_ ? "the SASL exchange is already complete" : "the SASL client is not usable";
    return r;
  }
  if (challenge.size() > kMaxSaslTokenBytes) {
    failed_ = true;
    r.error = fmt::format("a SASL challenge of {} bytes (at most {})", challenge.size(), kMaxSaslTokenBytes);
    return r;
  }
  sasl_interact_t* prompts = nullptr;
  const char* out = nullptr;
  unsigned out_len = 0;
  int rc = sasl_client_step(conn_, challenge.empty() ? nullptr : challenge.data(),
                            static_cast<unsigned>(challenge.size()), &prompts, &out, &out_len);
  if (rc != SASL_CONTINUE && rc != SASL_OK) {
    failed_ = true;
    r.error = fmt::format("{} ({})", sasl_errstring(rc, nullptr, nullptr), sasl_errdetail(conn_));
    return r;
  }
  if (out != nullptr) r.token.assign(out, out_len);
  complete_ = rc == SASL_OK;
  r.status = complete_ ? ClientStep::kComplete : ClientStep::kContinue;
  return r;
}

}  // namespace aviary::sasl
