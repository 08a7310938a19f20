// libFuzzer target for SASL input (issue 8): the JAAS parser and the login
// built from it (a file an operator writes), and client tokens fed to a
// DIGEST-MD5 server exchange (what any client may send in opcode 102).
// First byte: 0 = JAAS text; otherwise the rest is split at 0xff bytes into
// successive client tokens. Nothing may crash; a finished exchange fails
// every later step.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "sasl/jaas.h"
#include "sasl/login.h"
#include "sasl/sasl_server.h"

namespace {

using namespace aviary::sasl;

void Check(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "fuzz_sasl invariant failed: %s\n", what);
    std::abort();
  }
}

Authenticator& Digest() {
  static std::unique_ptr<Authenticator> auth = [] {
    AuthenticatorOptions o;
    o.login.digest_users["bob"] = "bobsecret";
    std::string err;
    auto a = Authenticator::Create(std::move(o), &err);
    Check(a != nullptr, "DIGEST-MD5 authenticator");
    return a;
  }();
  return *auth;
}

void FuzzJaas(std::string_view text) {
  JaasConfig cfg;
  std::string err;
  if (!ParseJaas(text, &cfg, &err)) {
    Check(!err.empty(), "a refused JAAS text has an error");
    return;
  }
  for (const JaasSection& s : cfg.sections) {
    ServerLogin login;
    BuildServerLogin(cfg, s.name, &login, &err);
  }
}

void FuzzTokens(std::string_view data) {
  std::string err;
  std::unique_ptr<Exchange> x = Digest().Begin(&err);
  Check(x != nullptr, "an exchange");
  bool over = false;
  for (int steps = 0; steps < 8; ++steps) {
    size_t cut = data.find('\xff');
    StepResult r = x->Step(data.substr(0, cut));
    if (over) Check(r.status == StepResult::kFailure, "a finished exchange fails");
    if (r.status != StepResult::kContinue) over = true;
    if (cut == std::string_view::npos) break;
    data.remove_prefix(cut + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 0) {
    FuzzJaas(in);
  } else {
    FuzzTokens(in);
  }
  return 0;
}
