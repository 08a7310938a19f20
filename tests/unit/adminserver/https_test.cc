// The AdminServer's HTTPS (admin.forceHttps, admin.portUnification,
// admin.needClientAuth) over real loopback sockets: a self-signed key store
// made here with OpenSSL, an OpenSSL client, a fake backend; and the gate's
// bounds (handshake deadline, max_pending) against silent peers.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "adminserver/command_result.h"
#include "adminserver/http_server.h"
#include "tls/context.h"

namespace aviary::adminserver {
namespace {

class Backend : public AdminBackend {
 public:
  CommandResult RunCommand(const AdminRequest& req) override {
    std::lock_guard<std::mutex> lock(mu);
    subject = req.x509_subject;
    ++calls;
    return CommandResult{};
  }
  std::mutex mu;
  std::string subject;
  int calls = 0;
};

// A self-signed certificate for `cn` and its key, as one PEM file.
std::string WriteSelfSigned(const std::string& path, const std::string& cn, std::string* cert_path = nullptr,
                            std::string* key_path = nullptr) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  X509_NAME* n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, n);
  X509_sign(x, key, EVP_sha256());
  FILE* f = std::fopen(path.c_str(), "w");
  PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  PEM_write_X509(f, x);
  std::fclose(f);
  if (cert_path != nullptr) {
    *cert_path = path + ".crt";
    f = std::fopen(cert_path->c_str(), "w");
    PEM_write_X509(f, x);
    std::fclose(f);
  }
  if (key_path != nullptr) {
    *key_path = path + ".key";
    f = std::fopen(key_path->c_str(), "w");
    PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }
  X509_free(x);
  EVP_PKEY_free(key);
  return path;
}

int Connect(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  return fd;
}

const std::string kGet = "GET /commands/ruok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

// Reads one whole response on a keep-alive connection: the headers and then
// Content-Length bytes of body (a response may arrive in several segments).
std::string ReadResponse(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const size_t head_end = out.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t length = 0;
      const size_t at = out.find("Content-Length: ");
      if (at != std::string::npos && at < head_end) length = std::stoul(out.substr(at + 16));
      if (out.size() >= head_end + 4 + length) return out;
    }
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string PlainGet(uint16_t port) {
  int fd = Connect(port);
  if (fd < 0) return "";
  (void)!::write(fd, kGet.data(), kGet.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

// GET over TLS (no server verification: the test's own self-signed key),
// with a client certificate when cert/key are given. "" when it fails.
std::string TlsGet(uint16_t port, const std::string& cert = "", const std::string& key = "") {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  if (!cert.empty()) {
    SSL_CTX_use_certificate_file(ctx.get(), cert.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx.get(), key.c_str(), SSL_FILETYPE_PEM);
  }
  int fd = Connect(port);
  if (fd < 0) return "";
  SSL* ssl = SSL_new(ctx.get());
  SSL_set_fd(ssl, fd);
  std::string out;
  if (SSL_connect(ssl) == 1 && SSL_write(ssl, kGet.data(), static_cast<int>(kGet.size())) > 0) {
    char buf[4096];
    int n;
    while ((n = SSL_read(ssl, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  }
  SSL_free(ssl);
  ::close(fd);
  return out;
}

// Whether the server closes `fd` within `ms` (recv sees the end or a
// reset; bytes before it, such as a TLS alert, are skipped).
bool ClosedWithin(int fd, int ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  for (;;) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
    pollfd p{fd, POLLIN, 0};
    if (left <= 0 || ::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    char buf[512];
    if (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) return true;
  }
}

class Https : public ::testing::Test {
 protected:
  void SetUp() override {
    signal(SIGPIPE, SIG_IGN);
    char tmpl[] = "/tmp/aviary-admin-https-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    server_pem_ = WriteSelfSigned(dir_ + "/server.pem", "localhost");
    client_pem_ = WriteSelfSigned(dir_ + "/client.pem", "admin-client", &client_cert_, &client_key_);
    rogue_pem_ = WriteSelfSigned(dir_ + "/rogue.pem", "rogue", &rogue_cert_, &rogue_key_);
  }
  void TearDown() override {
    for (const std::string& f :
         {server_pem_, client_pem_, client_cert_, client_key_, rogue_pem_, rogue_cert_, rogue_key_}) {
      std::remove(f.c_str());
    }
    ::rmdir(dir_.c_str());
  }

  HttpOptions Options(bool unified, bool need_client_auth) {
    tls::TlsOptions t;
    t.key_store.location = server_pem_;
    t.protocol = "TLS";
    t.client_auth = need_client_auth ? tls::ClientAuth::kNeed : tls::ClientAuth::kNone;
    if (need_client_auth) t.trust_store.location = client_cert_ + ".pem";
    auto source = std::make_shared<tls::ContextSource>(t);
    if (need_client_auth) {
      // The trust store: the client's own (self-signed) certificate.
      std::rename(client_cert_.c_str(), (client_cert_ + ".pem").c_str());
      client_cert_ += ".pem";
    }
    std::string error;
    EXPECT_TRUE(source->Start(&error)) << error;
    HttpOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.tls = source;
    o.unified = unified;
    return o;
  }

  // A unified (HTTP and HTTPS) server with one request thread; null if it
  // did not start.
  std::unique_ptr<AdminHttpServer> StartUnifiedOneThread(Backend* backend) {
    HttpOptions o = Options(true, false);
    o.threads = 1;
    auto http = std::make_unique<AdminHttpServer>(o, backend);
    std::string error;
    if (!http->Start(&error)) {
      ADD_FAILURE() << error;
      return nullptr;
    }
    return http;
  }

  std::string dir_, server_pem_, client_pem_, client_cert_, client_key_, rogue_pem_, rogue_cert_, rogue_key_;
};

TEST_F(Https, ForceHttpsRefusesPlaintext) {
  Backend backend;
  AdminHttpServer http(Options(false, false), &backend);
  std::string error;
  ASSERT_TRUE(http.Start(&error)) << error;
  std::string tls = TlsGet(http.port());
  EXPECT_NE(tls.find("200 OK"), std::string::npos) << tls;
  EXPECT_NE(tls.find("Strict-Transport-Security: max-age=86400; includeSubDomains"), std::string::npos);
  EXPECT_NE(tls.find("\"command\": \"ruok\""), std::string::npos);
  EXPECT_EQ(PlainGet(http.port()).find("200 OK"), std::string::npos);
  EXPECT_NE(TlsGet(http.port()).find("200 OK"), std::string::npos);  // still serving
  http.Stop();
}

TEST_F(Https, UnifiedServesBoth) {
  Backend backend;
  int plaintext = 0;
  HttpOptions o = Options(true, false);
  o.on_plaintext = [&plaintext] { ++plaintext; };
  AdminHttpServer http(o, &backend);
  std::string error;
  ASSERT_TRUE(http.Start(&error)) << error;
  std::string plain = PlainGet(http.port());
  EXPECT_NE(plain.find("200 OK"), std::string::npos) << plain;
  EXPECT_EQ(plain.find("Strict-Transport-Security"), std::string::npos);
  EXPECT_NE(TlsGet(http.port()).find("200 OK"), std::string::npos);
  http.Stop();
  EXPECT_EQ(plaintext, 1);
}

TEST_F(Https, NeedClientAuth) {
  Backend backend;
  AdminHttpServer http(Options(false, true), &backend);
  std::string error;
  ASSERT_TRUE(http.Start(&error)) << error;
  EXPECT_EQ(TlsGet(http.port()).find("200 OK"), std::string::npos);
  EXPECT_EQ(TlsGet(http.port(), rogue_cert_, rogue_key_).find("200 OK"), std::string::npos);
  std::string good = TlsGet(http.port(), client_cert_, client_key_);
  EXPECT_NE(good.find("200 OK"), std::string::npos) << good;
  {
    std::lock_guard<std::mutex> lock(backend.mu);
    EXPECT_EQ(backend.subject, "CN=admin-client");
  }
  http.Stop();
}

TEST_F(Https, SilentAndGarbagePeersAreBounded) {
  Backend backend;
  HttpOptions o = Options(true, false);
  o.handshake_timeout_ms = 500;
  o.max_pending = 8;
  AdminHttpServer http(o, &backend);
  std::string error;
  ASSERT_TRUE(http.Start(&error)) << error;
  // More silent peers than max_pending: the oldest are closed at once.
  std::vector<int> silent;
  for (int i = 0; i < 12; ++i) silent.push_back(Connect(http.port()));
  EXPECT_TRUE(ClosedWithin(silent[0], 300));
  // Garbage that starts like a TLS record fails its handshake.
  int garbage = Connect(http.port());
  const char junk[] = "\x16\x03\x01\x00\x05hello-not-tls";
  (void)!::write(garbage, junk, sizeof junk);
  EXPECT_TRUE(ClosedWithin(garbage, 2000));
  // Others are served meanwhile, over both.
  EXPECT_NE(TlsGet(http.port()).find("200 OK"), std::string::npos);
  EXPECT_NE(PlainGet(http.port()).find("200 OK"), std::string::npos);
  // The handshake deadline closes the rest.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(ClosedWithin(silent.back(), 3000));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  for (int fd : silent) ::close(fd);
  ::close(garbage);
  http.Stop();
}

TEST_F(Https, KeepAliveConnectionsWaitAtTheGate) {
  Backend backend;
  std::unique_ptr<AdminHttpServer> server = StartUnifiedOneThread(&backend);
  ASSERT_TRUE(server);
  AdminHttpServer& http = *server;
  // An idle keep-alive connection does not hold the one request thread.
  int idle = Connect(http.port());
  const std::string keep = "GET /commands/ruok HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!::write(idle, keep.data(), keep.size());
  const std::string first = ReadResponse(idle);
  EXPECT_NE(first.find("200 OK"), std::string::npos) << first;
  EXPECT_NE(PlainGet(http.port()).find("200 OK"), std::string::npos);
  EXPECT_NE(TlsGet(http.port()).find("200 OK"), std::string::npos);
  // ... and is still served afterwards.
  (void)!::write(idle, keep.data(), keep.size());
  const std::string second = ReadResponse(idle);
  EXPECT_NE(second.find("200 OK"), std::string::npos) << second;
  ::close(idle);
  http.Stop();
}

// A request head sent a piece at a time waits at the gate, not on a
// request thread (there is one here): others are served meanwhile, and
// the slow request is answered once its head is complete. A head that
// never ends is cut off at 64 KiB.
TEST_F(Https, SlowRequestHeadsWaitAtTheGate) {
  Backend backend;
  std::unique_ptr<AdminHttpServer> server = StartUnifiedOneThread(&backend);
  ASSERT_TRUE(server);
  AdminHttpServer& http = *server;
  const std::string head = "GET /commands/ruok HTTP/1.1\r\nHost: x\r\n";
  int slow1 = Connect(http.port());
  int slow2 = Connect(http.port());
  (void)!::write(slow1, head.data(), head.size());
  (void)!::write(slow2, head.data(), 10);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // both at the gate by now
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_NE(PlainGet(http.port()).find("200 OK"), std::string::npos);
  EXPECT_NE(TlsGet(http.port()).find("200 OK"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  (void)!::write(slow1, "\r\n", 2);  // the head ends: answered
  const std::string answer = ReadResponse(slow1);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  // Endless headers: closed once the head passes 64 KiB.
  int endless = Connect(http.port());
  const std::string line = "X-Filler: " + std::string(1000, 'a') + "\r\n";
  std::string flood = head;
  while (flood.size() < 70 * 1024) flood += line;
  (void)!::write(endless, flood.data(), flood.size());
  EXPECT_TRUE(ClosedWithin(endless, 3000));
  EXPECT_NE(PlainGet(http.port()).find("200 OK"), std::string::npos);
  for (int fd : {slow1, slow2, endless}) ::close(fd);
  http.Stop();
}

}  // namespace
}  // namespace aviary::adminserver
