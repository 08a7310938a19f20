#include "wire.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "proto/codec.h"

namespace aviary::bench {

proto::AclList OpenAcl() { return {proto::Acl{31, proto::Id{"world", "anyone"}}}; }

namespace {

// getaddrinfo of a TCP endpoint (free the list with freeaddrinfo); null
// with *error when the name does not resolve.
addrinfo* Lookup(const Endpoint& ep, std::string* error) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(ep.host.c_str(), std::to_string(ep.port).c_str(), &hints, &res); rc != 0) {
    *error = ep.host + ": " + gai_strerror(rc);
    return nullptr;
  }
  return res;
}

}  // namespace

int Dial(const Endpoint& ep, int timeout_ms, std::string* error) {
  addrinfo* res = Lookup(ep, error);
  if (res == nullptr) return -1;
  std::string port = std::to_string(ep.port);
  int fd = -1;
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      *error = ep.host + ":" + port + ": " + std::strerror(errno);
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  return fd;
}

bool Resolve(const Endpoint& ep, SockAddr* out, std::string* error) {
  addrinfo* res = Lookup(ep, error);
  if (res == nullptr) return false;
  std::memcpy(&out->addr, res->ai_addr, res->ai_addrlen);
  out->len = res->ai_addrlen;
  freeaddrinfo(res);
  return true;
}

int DialStart(const SockAddr& a, int n, std::string* error) {
  int fd = socket(a.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  const auto* in = reinterpret_cast<const sockaddr_in*>(&a.addr);
  if (a.addr.ss_family == AF_INET && (ntohl(in->sin_addr.s_addr) >> 24) == 127) {
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));  // the port is chosen at connect
    sockaddr_in src{};
    src.sin_family = AF_INET;
    src.sin_addr.s_addr = htonl((127u << 24) | static_cast<uint32_t>(1 + n % 8));
    bind(fd, reinterpret_cast<const sockaddr*>(&src), sizeof(src));  // on failure the kernel picks as usual
  }
  if (connect(fd, reinterpret_cast<const sockaddr*>(&a.addr), a.len) != 0 && errno != EINPROGRESS) {
    *error = std::string("connect: ") + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

namespace {
bool ReadExact(int fd, char* buf, size_t len) {
  while (len > 0) {
    ssize_t n = recv(fd, buf, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    len -= static_cast<size_t>(n);
  }
  return true;
}
}  // namespace

bool ReadFrame(int fd, std::string* payload) {
  unsigned char hdr[4];
  if (!ReadExact(fd, reinterpret_cast<char*>(hdr), 4)) return false;
  int64_t len = (int64_t{hdr[0]} << 24) | (hdr[1] << 16) | (hdr[2] << 8) | hdr[3];
  if (len < 0 || len > (16 << 20)) return false;
  payload->resize(static_cast<size_t>(len));
  return ReadExact(fd, payload->data(), payload->size());
}

bool Handshake(int fd, int session_timeout_ms, int64_t* session_id, std::string* error) {
  proto::ConnectRequest req;
  req.timeOut = session_timeout_ms;
  req.passwd.assign(16, '\0');
  std::string frame;
  proto::EncodeConnectRequest(req, &frame);
  std::string payload;
  proto::ConnectResponse rsp;
  if (!WriteAll(fd, frame) || !ReadFrame(fd, &payload)) {
    *error = "handshake: connection lost";
    return false;
  }
  if (!proto::DecodeConnectResponse(payload, &rsp) || rsp.timeOut <= 0) {
    *error = "handshake: session refused";
    return false;
  }
  *session_id = rsp.sessionId;
  return true;
}

void CloseSession(int fd, int32_t xid) {
  if (fd < 0) return;
  proto::Request req;
  req.header = {xid, static_cast<int32_t>(proto::OpCode::kCloseSession)};
  std::string frame;
  proto::EncodeRequest(req, &frame);
  if (WriteAll(fd, frame)) {
    // Skip whatever is still in flight until the closeSession reply or EOF.
    std::string payload;
    for (int i = 0; i < 100000 && ReadFrame(fd, &payload); i++) {
      proto::ReplyHeader hdr;
      proto::ResponseBody body;
      if (proto::DecodeReply(payload, proto::OpCode::kCloseSession, &hdr, &body) && hdr.xid == xid) break;
    }
  }
  close(fd);
}

SyncSession::~SyncSession() { Close(); }

bool SyncSession::Open(const Endpoint& ep, int session_timeout_ms, std::string* error) {
  Close();
  fd_ = Dial(ep, 10000, error);
  if (fd_ < 0) return false;
  int64_t sid = 0;
  if (!Handshake(fd_, session_timeout_ms, &sid, error)) {
    close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

bool SyncSession::Run(std::vector<proto::Request>& reqs, int window, std::vector<int32_t>* errs, std::string* error) {
  errs->clear();
  size_t sent = 0;
  std::string out, payload;
  while (errs->size() < reqs.size()) {
    out.clear();
    while (sent < reqs.size() && sent - errs->size() < static_cast<size_t>(window)) {
      reqs[sent].header.xid = next_xid_++;
      proto::EncodeRequest(reqs[sent], &out);
      sent++;
    }
    if (!out.empty() && !WriteAll(fd_, out)) {
      *error = "setup: write failed";
      return false;
    }
    if (!ReadFrame(fd_, &payload)) {
      *error = "setup: connection lost";
      return false;
    }
    const proto::Request& want = reqs[errs->size()];
    proto::ReplyHeader hdr;
    proto::ResponseBody body;
    if (!proto::DecodeReply(payload, want.op(), &hdr, &body)) {
      *error = "setup: malformed reply";
      return false;
    }
    if (hdr.xid == -1) continue;  // a watch event; none are set, but be tolerant
    if (hdr.xid != want.header.xid) {
      *error = "setup: reply out of order";
      return false;
    }
    errs->push_back(hdr.err);
  }
  return true;
}

bool SyncSession::Call(proto::Request& req, proto::ReplyHeader* hdr, proto::ResponseBody* body, std::string* error) {
  req.header.xid = next_xid_++;
  std::string out, payload;
  proto::EncodeRequest(req, &out);
  if (!WriteAll(fd_, out)) {
    *error = "write failed";
    return false;
  }
  for (;;) {
    if (!ReadFrame(fd_, &payload)) {
      *error = "connection lost";
      return false;
    }
    if (!proto::DecodeReply(payload, req.op(), hdr, body)) {
      *error = "malformed reply";
      return false;
    }
    if (hdr->xid == -1) continue;
    if (hdr->xid != req.header.xid) {
      *error = "reply out of order";
      return false;
    }
    return true;
  }
}

void SyncSession::Close() {
  if (fd_ >= 0) CloseSession(fd_, next_xid_++);
  fd_ = -1;
}

}  // namespace aviary::bench
