// The only file that includes <httplib.h> (it is large).
#include "adminserver/http_server.h"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstring>
#include <regex>
#include <string_view>
#include <unordered_map>

#include "base/log.h"
#include "tls/context.h"
#include "tls/store.h"
#include "tls/x509_name.h"

namespace aviary::adminserver {
namespace detail {

// One accepted connection, from accept to close (its destructor closes it:
// close_notify first when a TLS session was established).
struct Conn {
  enum class Phase : uint8_t {
    kDetect,     // unified port: waiting for the first byte
    kHandshake,  // TLS handshake
    kIdle,       // waiting for a request (the first on a plain port, or the next: keep-alive)
  };
  int fd = -1;
  SSL* ssl = nullptr;
  Phase phase = Phase::kIdle;
  int64_t deadline_ms = 0;
  uint64_t seq = 0;  // arrival order at the gate (the oldest is closed first)
  uint32_t events = 0;
  std::string remote_ip, local_ip;
  int remote_port = -1, local_port = -1;
  // Bytes read from the socket (or decrypted) that httplib has not taken yet.
  std::string rbuf;
  size_t rpos = 0;
  size_t head_scanned = 0;   // bytes of rbuf (from rpos) searched for the end of a request head
  size_t served = 0;         // requests answered on this connection
  bool close_after = false;  // the answer ends the connection (a request body left unread)

  ~Conn() {
    if (ssl != nullptr) {
      if (SSL_is_init_finished(ssl)) SSL_shutdown(ssl);  // non-blocking: one close_notify, best effort
      SSL_free(ssl);
      ERR_clear_error();
    }
    if (fd >= 0) ::close(fd);
  }
  bool Buffered() const { return rpos < rbuf.size() || (ssl != nullptr && SSL_pending(ssl) > 0); }
};

// Server::process_request is protected: this subclass lends it to the
// request threads, and takes over accepted sockets (httplib's accept thread
// calls process_and_close_socket through the inline task queue below).
class Httplib : public httplib::Server {
 public:
  explicit Httplib(AdminHttpServer* owner) : owner_(owner) {}
  bool Process(httplib::Stream& strm, bool close_connection, bool& connection_closed,
               const std::function<void(httplib::Request&)>& setup) {
    return process_request(strm, close_connection, connection_closed, setup);
  }
  size_t keep_alive_max() const { return keep_alive_max_count_; }

 private:
  bool process_and_close_socket(socket_t sock) override {
    owner_->Accepted(sock);
    return true;
  }
  AdminHttpServer* owner_;
};

}  // namespace detail

namespace {

using detail::Conn;

constexpr unsigned char kTlsHandshakeRecord = 0x16;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Runs each accepted socket's task on the accept thread: the task only
// hands the socket to the gate, it never blocks.
class InlineQueue : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> fn) override { fn(); }
  void shutdown() override {}
};

// Waits until `fd` is ready for `events` or `deadline_ms` passes.
bool WaitFd(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    const int64_t left = deadline_ms - NowMs();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left, INT_MAX)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

// The most a request head (request line and headers) may take before its
// blank line; a connection that sends more is closed at the gate (httplib
// refuses far shorter lines and fewer headers anyway).
constexpr size_t kMaxRequestHead = 64 * 1024;

enum class Head : uint8_t { kComplete, kMore, kClosed };

// At the gate: reads what `c` has (non-blocking) after the bytes not yet
// taken, until a whole request head is buffered. kMore: *want says what to
// wait for (EPOLLIN, or EPOLLOUT when TLS needs to write first).
Head ReadHead(Conn* c, uint32_t* want) {
  if (c->rpos > 0) {  // what httplib took goes
    c->rbuf.erase(0, c->rpos);
    c->head_scanned = c->head_scanned > c->rpos ? c->head_scanned - c->rpos : 0;
    c->rpos = 0;
  }
  constexpr size_t kChunk = 16 * 1024;
  for (;;) {
    // The blank line that ends a head ("\r\n\r\n", or bare "\n\n" as httplib
    // also accepts), searched only in what is new (and 3 bytes before it).
    const size_t from = c->head_scanned > 3 ? c->head_scanned - 3 : 0;
    const std::string_view buffered(c->rbuf);
    if (buffered.find("\r\n\r\n", from) != std::string_view::npos ||
        buffered.find("\n\n", from) != std::string_view::npos) {
      return Head::kComplete;
    }
    c->head_scanned = c->rbuf.size();
    if (c->rbuf.size() >= kMaxRequestHead) {
      AV_LOG(kDebug, "AdminServer: {} sent more than {} bytes without ending its request head; closed", c->remote_ip,
             kMaxRequestHead);
      return Head::kClosed;
    }
    // Into a buffer of this thread's, then appended: growing rbuf by a whole
    // chunk per read would zero-fill 16 KiB for every byte a slow peer sends.
    char chunk[kChunk];
    ssize_t got;
    if (c->ssl != nullptr) {
      const int r = SSL_read(c->ssl, chunk, static_cast<int>(kChunk));
      got = r;
      if (r <= 0) {
        const int err = SSL_get_error(c->ssl, r);
        ERR_clear_error();
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
          *want = err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT;
          return Head::kMore;
        }
        return Head::kClosed;  // closed (or failed) before a whole request
      }
    } else {
      got = ::recv(c->fd, chunk, kChunk, 0);
      if (got <= 0) {
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
          *want = EPOLLIN;
          return Head::kMore;
        }
        return Head::kClosed;
      }
    }
    c->rbuf.append(chunk, static_cast<size_t>(got));
  }
}

void Address(const sockaddr_storage& addr, socklen_t len, std::string* ip, int* port) {
  char host[NI_MAXHOST];
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host, sizeof host, nullptr, 0, NI_NUMERICHOST) ==
      0) {
    *ip = host;
  }
  if (addr.ss_family == AF_INET) *port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  if (addr.ss_family == AF_INET6) *port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
}

// httplib's view of a connection: reads are buffered (httplib reads a
// request line byte by byte), every read and write waits at most `io_ms`.
class ConnStream : public httplib::Stream {
 public:
  ConnStream(Conn* c, int64_t io_ms) : c_(c), io_ms_(io_ms) {}
  // A request's reads (its body: the head is in already, ReadHead) end
  // io_ms after it started, however slowly its bytes come.
  void StartRequest() { request_deadline_ms_ = NowMs() + io_ms_; }

  bool is_readable() const override { return c_->Buffered() || WaitFd(c_->fd, POLLIN, NowMs() + io_ms_); }
  bool is_writable() const override { return WaitFd(c_->fd, POLLOUT, NowMs() + io_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (c_->rpos >= c_->rbuf.size()) {
      const ssize_t n = Fill();
      if (n <= 0) return n;
    }
    const size_t n = std::min(size, c_->rbuf.size() - c_->rpos);
    std::memcpy(ptr, c_->rbuf.data() + c_->rpos, n);
    c_->rpos += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    const int64_t deadline = NowMs() + io_ms_;
    for (;;) {
      if (c_->ssl != nullptr) {
        const int r = SSL_write(c_->ssl, ptr, static_cast<int>(std::min<size_t>(size, INT_MAX)));
        if (r > 0) return r;
        const int err = SSL_get_error(c_->ssl, r);
        ERR_clear_error();
        if (err == SSL_ERROR_WANT_WRITE && WaitFd(c_->fd, POLLOUT, deadline)) continue;
        if (err == SSL_ERROR_WANT_READ && WaitFd(c_->fd, POLLIN, deadline)) continue;
        return -1;
      }
      const ssize_t r = ::send(c_->fd, ptr, size, MSG_NOSIGNAL);
      if (r >= 0) return r;
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && WaitFd(c_->fd, POLLOUT, deadline)) continue;
      return -1;
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_->remote_ip;
    port = c_->remote_port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = c_->local_ip;
    port = c_->local_port;
  }
  // httplib only looks at this to answer 500 to a socket numbered
  // FD_SETSIZE or more (its own select() could not wait on it); this stream
  // polls, so such a socket is served too.
  socket_t socket() const override { return c_->fd < FD_SETSIZE ? c_->fd : 0; }

 private:
  // One recv (or one TLS record's plaintext) into the buffer: > 0 bytes,
  // 0 at the end of the stream, -1 on an error or when io_ms passed.
  ssize_t Fill() {
    constexpr size_t kChunk = 16 * 1024;
    c_->rbuf.resize(kChunk);
    c_->rpos = 0;
    const int64_t deadline = std::min(NowMs() + io_ms_, request_deadline_ms_);
    ssize_t got = -1;
    for (;;) {
      if (c_->ssl != nullptr) {
        const int r = SSL_read(c_->ssl, c_->rbuf.data(), static_cast<int>(kChunk));
        if (r > 0) {
          got = r;
          break;
        }
        const int err = SSL_get_error(c_->ssl, r);
        ERR_clear_error();
        if (err == SSL_ERROR_WANT_READ && WaitFd(c_->fd, POLLIN, deadline)) continue;
        if (err == SSL_ERROR_WANT_WRITE && WaitFd(c_->fd, POLLOUT, deadline)) continue;
        got = err == SSL_ERROR_ZERO_RETURN ? 0 : -1;
        break;
      }
      const ssize_t r = ::recv(c_->fd, c_->rbuf.data(), kChunk, 0);
      if (r >= 0) {
        got = r;
        break;
      }
      if (errno == EINTR) continue;
      if ((errno == EAGAIN || errno == EWOULDBLOCK) && WaitFd(c_->fd, POLLIN, deadline)) continue;
      break;
    }
    c_->rbuf.resize(got > 0 ? static_cast<size_t>(got) : 0);
    return got;
  }

  Conn* c_;
  int64_t io_ms_;
  int64_t request_deadline_ms_ = INT64_MAX;
};

// The verified client certificate's subject (X500Principal.getName()), or "".
std::string PeerSubject(const SSL* ssl) {
  if (ssl == nullptr || SSL_get_verify_result(ssl) != X509_V_OK) return {};
  X509* cert = SSL_get0_peer_certificate(ssl);
  return cert == nullptr ? std::string() : tls::Rfc2253Name(X509_get_subject_name(cert));
}

std::string RegexEscape(const std::string& s) {
  static const std::regex kSpecial(R"([.^$|()\[\]{}*+?\\])");
  return std::regex_replace(s, kSpecial, R"(\$&)");
}

// JettyAdminServer.commandLinks, one "<a ...>" line and one "<br/>" each.
std::string CommandLinks(const std::string& url) {
  std::string out;
  for (const std::string& name : PrimaryNames()) {
    out += "<a href=\"" + url + "/" + name + "\">" + name + "</a>\n<br/>\n";
  }
  return out;
}

void SendFile(const std::string& path, httplib::Response& res) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    res.status = 500;
    return;
  }
  std::fseek(f, 0, SEEK_END);
  const long size = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  auto file = std::shared_ptr<FILE>(f, [path](FILE* p) {
    std::fclose(p);
    ::unlink(path.c_str());
    const size_t slash = path.rfind('/');
    if (slash != std::string::npos) ::rmdir(path.substr(0, slash).c_str());  // only when empty
  });
  res.set_content_provider(
      static_cast<size_t>(size), "application/octet-stream",
      [file](size_t offset, size_t length, httplib::DataSink& sink) {
        char buf[64 * 1024];
        std::fseek(file.get(), static_cast<long>(offset), SEEK_SET);
        size_t n = std::fread(buf, 1, std::min(length, sizeof buf), file.get());
        if (n == 0) return false;
        sink.write(buf, n);
        return true;
      },
      [file](bool) {});
}

}  // namespace

namespace {
// The connection the calling request thread serves (set around Process).
thread_local Conn* tl_conn = nullptr;
}  // namespace

AdminHttpServer::AdminHttpServer(HttpOptions opts, AdminBackend* backend)
    : opts_(std::move(opts)), backend_(backend), http_(std::make_unique<detail::Httplib>(this)) {
  Install();
}

AdminHttpServer::~AdminHttpServer() { Stop(); }

void AdminHttpServer::Install() {
  http_->new_task_queue = [] { return new InlineQueue(); };
  const time_t idle_s = static_cast<time_t>(std::max<int64_t>(1, opts_.idle_timeout_ms / 1000));
  http_->set_keep_alive_timeout(idle_s);
  http_->set_read_timeout(idle_s, 0);
  http_->set_write_timeout(idle_s, 0);
  http_->set_payload_max_length(static_cast<size_t>(opts_.max_body_bytes));
  // httplib's default sets SO_REUSEPORT: a second server would then share a
  // busy port silently. SO_REUSEADDR only, so a busy port fails the bind.
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  auto handle = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader* reader) {
    std::string name = req.matches.size() > 1 ? std::string(req.matches[1]) : "";
    if (!name.empty() && name[0] == '/') name.erase(0, 1);
    if (name.empty()) return res.set_content(CommandLinks(opts_.command_url), "text/html");
    const CommandSpec* spec = FindCommand(name);
    if (spec == nullptr) return res.set_content(RenderUnknown(name), "application/json");
    AdminRequest ar;
    ar.spec = spec;
    ar.post = req.method == "POST";
    for (const auto& [k, v] : req.params) ar.params.emplace(k, v);  // the first value of each
    ar.authorization = req.get_header_value("Authorization");
    ar.remote_ip = req.remote_addr;
    ar.x509_subject = PeerSubject(req.ssl);
    if (spec->post != ar.post && !(spec->id == CommandId::kSnapshot)) {
      CommandResult r;
      r.status = 405;
      r.error = std::string(spec->primary) + (spec->post ? " is a POST command" : " is a GET command");
      res.status = r.status;
      return res.set_content(RenderJson(*spec, r), "application/json");
    }
    bool body_read = reader == nullptr;
    if (reader != nullptr) {
      const size_t limit = static_cast<size_t>(opts_.max_body_bytes);
      ar.read_body = [reader, limit, &body_read](std::string* out) {
        body_read = true;
        return (*reader)([out, limit](const char* data, size_t n) {
          if (out->size() + n > limit) return false;
          out->append(data, n);
          return true;
        });
      };
    }
    CommandResult r = backend_->RunCommand(ar);
    res.status = r.status;
    for (const auto& [k, v] : r.headers) res.set_header(k, v);
    if (!body_read) {  // the unread body ends this connection
      res.set_header("Connection", "close");
      if (tl_conn != nullptr) tl_conn->close_after = true;
    }
    if (!r.stream_file.empty()) return SendFile(r.stream_file, res);
    res.set_content(RenderJson(*spec, r), "application/json");
  };
  // Jetty's SecureRequestCustomizer (JettyAdminServer: one day, with
  // subdomains) on every HTTPS answer.
  http_->set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    if (req.ssl != nullptr) res.set_header("Strict-Transport-Security", "max-age=86400; includeSubDomains");
  });
  const std::string pattern = RegexEscape(opts_.command_url) + "(/.*)?";
  http_->Get(pattern, [handle](const httplib::Request& req, httplib::Response& res) { handle(req, res, nullptr); });
  http_->Post(pattern, [handle](const httplib::Request& req, httplib::Response& res,
                                const httplib::ContentReader& reader) { handle(req, res, &reader); });
}

bool AdminHttpServer::Start(std::string* error) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    *error = std::string("AdminServer: epoll: ") + std::strerror(errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  const int port = opts_.port == 0 ? http_->bind_to_any_port(opts_.address)
                                   : (http_->bind_to_port(opts_.address, opts_.port) ? opts_.port : -1);
  if (port <= 0) {
    *error = "cannot bind the AdminServer to " + opts_.address + ":" + std::to_string(opts_.port);
    return false;
  }
  bound_port_ = static_cast<uint16_t>(port);
  gate_ = std::thread([this] { GateLoop(); });
  for (int i = 0; i < std::max(1, opts_.threads); ++i) workers_.emplace_back([this] { WorkerLoop(); });
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  return true;
}

void AdminHttpServer::Stop() {
  if (thread_.joinable()) {
    http_->stop();
    thread_.join();  // no more accepted sockets
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    for (int fd : active_) ::shutdown(fd, SHUT_RDWR);  // ends a request thread's wait on its peer
  }
  cv_.notify_all();
  if (wake_fd_ >= 0) {
    const uint64_t one = 1;
    (void)!::write(wake_fd_, &one, sizeof one);
  }
  if (gate_.joinable()) gate_.join();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  {
    std::lock_guard<std::mutex> lock(mu_);
    to_gate_.clear();
    to_workers_.clear();
  }
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  epoll_fd_ = wake_fd_ = -1;
}

void AdminHttpServer::Accepted(int fd) {
  auto c = std::make_unique<Conn>();
  c->fd = fd;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    Address(addr, len, &c->remote_ip, &c->remote_port);
  }
  len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    Address(addr, len, &c->local_ip, &c->local_port);
  }
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (opts_.tls == nullptr) {
    c->phase = Conn::Phase::kIdle;
    c->deadline_ms = NowMs() + opts_.idle_timeout_ms;
  } else {
    c->phase = opts_.unified ? Conn::Phase::kDetect : Conn::Phase::kHandshake;
    c->deadline_ms = NowMs() + opts_.handshake_timeout_ms;
  }
  ToGate(std::move(c));
}

void AdminHttpServer::ToGate(std::unique_ptr<Conn> c) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;  // closes it
    to_gate_.push_back(std::move(c));
  }
  const uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof one);
}

void AdminHttpServer::ToWorkers(std::unique_ptr<Conn> c) {
  std::unique_ptr<Conn> dropped;  // closed outside the lock
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    to_workers_.push_back(std::move(c));
    if (to_workers_.size() > opts_.max_pending) {
      dropped = std::move(to_workers_.front());
      to_workers_.pop_front();
    }
  }
  if (dropped) AV_LOG(kDebug, "AdminServer: too many connections waiting; closing {}", dropped->remote_ip);
  cv_.notify_one();
}

void AdminHttpServer::GateLoop() {
  std::unordered_map<int, std::unique_ptr<Conn>> waiting;
  uint64_t next_seq = 0;
  auto close_conn = [&](int fd) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    waiting.erase(fd);
  };
  auto watch = [&](Conn* c, uint32_t events) {
    if (c->events == events) return;
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = c->fd;
    ::epoll_ctl(epoll_fd_, c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, c->fd, &ev);
    c->events = events;
  };
  auto dispatch = [&](int fd) {
    auto it = waiting.find(fd);
    std::unique_ptr<Conn> c = std::move(it->second);
    waiting.erase(it);
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
    c->events = 0;
    ToWorkers(std::move(c));
  };
  // Moves `c` on as far as its bytes allow; false when it is closed.
  auto advance = [&](Conn* c) {
    if (c->phase == Conn::Phase::kDetect) {
      unsigned char b = 0;
      const ssize_t n = ::recv(c->fd, &b, 1, MSG_PEEK);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
      if (n <= 0) return false;
      if (b != kTlsHandshakeRecord) {
        if (opts_.on_plaintext) opts_.on_plaintext();
        c->phase = Conn::Phase::kIdle;  // plaintext: on to its request head
        c->deadline_ms = NowMs() + opts_.idle_timeout_ms;
      } else {
        c->phase = Conn::Phase::kHandshake;
      }
    }
    if (c->phase == Conn::Phase::kHandshake) {
      if (c->ssl == nullptr) {
        tls::SslCtxPtr ctx = opts_.tls->Current();
        c->ssl = SSL_new(ctx.get());
        if (c->ssl == nullptr || SSL_set_fd(c->ssl, c->fd) != 1) {
          AV_LOG(kWarn, "AdminServer: cannot create a TLS connection: {}", tls::OpenSslErrors());
          return false;
        }
        SSL_set_accept_state(c->ssl);
        SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
      }
      const int r = SSL_do_handshake(c->ssl);
      if (r == 1) {
        c->phase = Conn::Phase::kIdle;
        c->deadline_ms = NowMs() + opts_.idle_timeout_ms;
        // fall through: the request head
      } else {
        const int err = SSL_get_error(c->ssl, r);
        if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
          ERR_clear_error();
          watch(c, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
          return true;
        }
        std::string why = tls::OpenSslErrors();
        const long verify = SSL_get_verify_result(c->ssl);
        if (verify != X509_V_OK)
          why = std::string("client certificate rejected: ") + X509_verify_cert_error_string(verify);
        AV_LOG(kDebug, "AdminServer: TLS handshake with {} failed: {}", c->remote_ip,
               why.empty() ? "the peer closed the connection" : why);
        return false;
      }
    }
    // kIdle: a request thread takes the connection only once a whole
    // request head is here, so a peer that sends it slowly holds none.
    uint32_t want = EPOLLIN;
    switch (ReadHead(c, &want)) {
      case Head::kComplete:
        dispatch(c->fd);
        return true;
      case Head::kMore:
        watch(c, want);
        return true;
      case Head::kClosed:
        return false;
    }
    return false;
  };

  std::vector<epoll_event> events(64);
  for (;;) {
    std::deque<std::unique_ptr<Conn>> arrived;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) break;
      arrived.swap(to_gate_);
    }
    for (std::unique_ptr<Conn>& c : arrived) {
      Conn* p = c.get();
      p->seq = next_seq++;
      p->events = 0;
      const int fd = p->fd;
      waiting[fd] = std::move(c);
      if (waiting.size() > opts_.max_pending) {  // the oldest waiter makes room
        auto oldest = std::min_element(waiting.begin(), waiting.end(),
                                       [](const auto& a, const auto& b) { return a.second->seq < b.second->seq; });
        const int oldest_fd = oldest->first;
        AV_LOG(kDebug, "AdminServer: more than {} connections waiting; closing the oldest ({})", opts_.max_pending,
               oldest->second->remote_ip);
        close_conn(oldest_fd);
        if (oldest_fd == fd) continue;
      }
      if (p->phase == Conn::Phase::kHandshake && p->ssl != nullptr) {
        watch(p, EPOLLIN);
      } else if (p->phase == Conn::Phase::kIdle && p->Buffered()) {
        if (!advance(p)) close_conn(fd);  // a pipelined request: its head may be in already
      } else {
        watch(p, EPOLLIN);
      }
    }
    int64_t now = NowMs();
    int64_t next_deadline = now + 1000;
    for (auto it = waiting.begin(); it != waiting.end();) {
      if (it->second->deadline_ms <= now) {
        if (it->second->phase != Conn::Phase::kIdle) {
          AV_LOG(kDebug, "AdminServer: {} did not finish its TLS handshake within {} ms; closed", it->second->remote_ip,
                 opts_.handshake_timeout_ms);
        }
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, it->first, nullptr);
        it = waiting.erase(it);
        continue;
      }
      next_deadline = std::min(next_deadline, it->second->deadline_ms);
      ++it;
    }
    const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                               static_cast<int>(std::max<int64_t>(1, next_deadline - now)));
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t v;
        (void)!::read(wake_fd_, &v, sizeof v);
        continue;
      }
      auto it = waiting.find(fd);
      if (it == waiting.end()) continue;
      if (!advance(it->second.get())) close_conn(fd);
    }
  }
  for (auto& [fd, c] : waiting) ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void AdminHttpServer::WorkerLoop() {
  for (;;) {
    std::unique_ptr<Conn> c;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !to_workers_.empty(); });
      if (stopping_) return;
      c = std::move(to_workers_.front());
      to_workers_.pop_front();
      active_.push_back(c->fd);
    }
    const int fd = c->fd;
    Serve(std::move(c));
    std::lock_guard<std::mutex> lock(mu_);
    active_.erase(std::find(active_.begin(), active_.end(), fd));
  }
}

// One request (httplib's keep-alive loop, process_server_socket, split:
// the wait for the next request, and for its head, happens at the gate).
void AdminHttpServer::Serve(std::unique_ptr<Conn> c) {
  ConnStream strm(c.get(), std::max<int64_t>(1000, opts_.idle_timeout_ms));
  SSL* ssl = c->ssl;
  const auto setup = [ssl](httplib::Request& req) { req.ssl = ssl; };
  const bool close_connection = ++c->served >= http_->keep_alive_max();
  bool connection_closed = false;
  tl_conn = c.get();
  strm.StartRequest();
  const bool ok = http_->Process(strm, close_connection, connection_closed, setup);
  tl_conn = nullptr;
  if (!ok || connection_closed || close_connection || c->close_after) return;
  // The next request, pipelined or not, waits at the gate for its head.
  c->phase = Conn::Phase::kIdle;
  c->deadline_ms = NowMs() + opts_.idle_timeout_ms;
  ToGate(std::move(c));
}

}  // namespace aviary::adminserver
