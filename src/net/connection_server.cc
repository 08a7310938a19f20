#include "net/connection_server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/log.h"
#include "base/thread_slice.h"
#include "metrics/server_metrics.h"
#include "net/peer_address.h"
#include "net/recv_stamped.h"
#include "net/tls_stream.h"
#include "tls/context.h"

namespace aviary::net {
namespace {

constexpr size_t kReadChunk = 64 * 1024;
constexpr size_t kMaxReadPerPass = 512 * 1024;  // fairness between connections
constexpr size_t kMaxFramesPerPass = 128;       // likewise, per connection
constexpr size_t kOutputHighWater = 4u << 20;   // stop parsing above this backlog
constexpr int kMaxEvents = 256;
constexpr int kWorkerBits = 8;
constexpr size_t kTlsEncryptChunk = 256u << 10;  // plaintext encrypted per step while the socket keeps up
constexpr size_t kKeepPassBytes = 256u << 10;    // a read pass's payload buffer kept for the next pass

// A connection's input or output buffer: one pointer while the connection
// is idle (empty: no string object at all), a std::string while bytes are
// buffered (idle-session memory, issue 10: 8 bytes instead of 32 a buffer).
// Emptied buffers go back to a small per-thread pool with their storage (up
// to kKeepBytes), so a busy connection does not allocate per read.
class LazyString {
 public:
  LazyString() = default;
  LazyString(LazyString&&) noexcept = default;
  LazyString& operator=(LazyString&&) noexcept = default;
  ~LazyString() = default;  // frees (no pool: may run at any thread's exit)

  size_t size() const { return s_ ? s_->size() : 0; }
  bool empty() const { return size() == 0; }
  const char* data() const { return s_ ? s_->data() : ""; }
  void append(const char* p, size_t n) { Get().append(p, n); }
  void append(const std::string& b) { Get().append(b); }
  LazyString& operator=(std::string&& b) {
    if (b.empty()) {
      Release();
    } else {
      Get() = std::move(b);
    }
    return *this;
  }
  void clear() {
    if (s_) s_->clear();
  }
  std::string substr(size_t pos, size_t n) const { return s_ ? s_->substr(pos, n) : std::string(); }
  void erase(size_t pos, size_t n) {
    if (s_) s_->erase(pos, n);
  }
  std::string* get() { return &Get(); }
  // Drops the buffer (an idle connection keeps none).
  void Release() {
    if (!s_) return;
    std::vector<std::unique_ptr<std::string>>& pool = Pool();
    if (pool.size() < kPoolSize) {
      s_->clear();
      if (s_->capacity() > kKeepBytes) std::string().swap(*s_);
      pool.push_back(std::move(s_));
    }
    s_.reset();
  }

 private:
  static constexpr size_t kPoolSize = 64;
  static constexpr size_t kKeepBytes = 4096;
  static std::vector<std::unique_ptr<std::string>>& Pool() {
    thread_local std::vector<std::unique_ptr<std::string>> pool;
    return pool;
  }
  std::string& Get() {
    if (!s_) {
      std::vector<std::unique_ptr<std::string>>& pool = Pool();
      if (pool.empty()) {
        s_ = std::make_unique<std::string>();
      } else {
        s_ = std::move(pool.back());
        pool.pop_back();
      }
    }
    return *s_;
  }
  std::unique_ptr<std::string> s_;
};

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A listening socket bound to `ai`, or -1 with *error set. IPv6 sockets are
// dual-stack (IPV6_V6ONLY off), as Java's: `::` also takes IPv4 clients.
int ListenOn(const addrinfo& ai, int backlog, const std::string& what, std::string* error) {
  int fd = ::socket(ai.ai_family, ai.ai_socktype | SOCK_CLOEXEC, ai.ai_protocol);
  if (fd < 0) {
    *error = "cannot listen on " + what + ": " + std::strerror(errno);
    return -1;
  }
  int one = 1, zero = 0;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ai.ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  if (::bind(fd, ai.ai_addr, ai.ai_addrlen) == 0 && ::listen(fd, backlog > 0 ? backlog : SOMAXCONN) == 0) return fd;
  *error = "cannot listen on " + what + ": " + std::strerror(errno);
  ::close(fd);
  return -1;
}

}  // namespace

// Per-IP connection counts, shared by the acceptor and the workers.
class IpCounter {
 public:
  bool TryAdd(const std::string& ip, int max) {
    std::lock_guard<std::mutex> lock(mu_);
    int& n = counts_[ip];
    if (max > 0 && n >= max) return false;
    ++n;
    return true;
  }
  void Remove(const std::string& ip) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = counts_.find(ip);
    if (it != counts_.end() && --it->second <= 0) counts_.erase(it);
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, int> counts_;
};

class Worker {
 public:
  Worker(int index, const ServerOptions& opts, FrameSink* sink, std::function<bool(std::string_view)>* is4,
         IpCounter* ips, std::atomic<size_t>* total)
      : index_(index), opts_(opts), sink_(sink), is4_(is4), ips_(ips), total_(total) {
    max_buffered_in_ = std::max<size_t>(2u << 20, 2 * (static_cast<size_t>(opts.max_frame_bytes) + 4));
  }

  bool Init(std::string* error) {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || evfd_ < 0) {
      *error = std::string("epoll/eventfd: ") + std::strerror(errno);
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0;  // conn ids are never 0
    epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
    return true;
  }
  void StartThread() {
    thread_ = std::thread([this] {
      const std::string name = "av-io-" + std::to_string(index_);
      pthread_setname_np(pthread_self(), name.c_str());  // for top -H / perf
      if (opts_.on_io_thread_start) opts_.on_io_thread_start();
      Run();
    });
  }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_.store(true);
    }
    WakeLocked();
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [id, c] : conns_) {
      ::close(c.fd);
      ips_->Remove(IpOfPeer(c.peer));
      total_->fetch_sub(1);
    }
    conns_.clear();
    if (epfd_ >= 0) ::close(epfd_);
    if (evfd_ >= 0) ::close(evfd_);
    epfd_ = evfd_ = -1;
    cmds_.clear();
  }

  ConnId NextId() { return (++seq_ << kWorkerBits) | static_cast<ConnId>(index_); }

  void PostAdd(int fd, ConnId id, std::string peer, TlsStream::Mode mode) {
    Cmd cmd{Cmd::kAdd, id, fd, std::move(peer), false};
    cmd.mode = mode;
    Post(std::move(cmd));
  }
  void PostSend(ConnId id, std::string bytes, bool close_after) {
    Post(Cmd{Cmd::kSend, id, -1, std::move(bytes), close_after});
  }
  void PostClose(ConnId id) { Post(Cmd{Cmd::kClose, id, -1, {}, false}); }
  // The outs of `batch` whose connection lives on this worker (`of`
  // selects them). A plain connection with nothing queued here gets its
  // bytes written straight from the calling thread (no wakeup of this
  // one); the rest is queued. A credit alone wakes this thread only when
  // the connection waits for it (starved).
  void PostBatch(std::vector<ConnectionServer::Out>& batch, size_t of, size_t workers, bool direct) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.load()) return;
    bool wake = false;
    for (auto& o : batch) {
      if ((o.conn & ((1u << kWorkerBits) - 1)) % workers != of) continue;
      auto it = conns_.find(o.conn);
      if (it == conns_.end()) continue;
      Conn& c = it->second;
      if (direct && !o.bytes.empty() && c.direct && !o.close_after && SendDirectLocked(c, o.bytes)) o.bytes.clear();
      if (!o.bytes.empty() || o.close_after) {
        c.direct = false;
        ++c.posted;
        wake = true;
      } else if (o.notify_drained) {
        wake = true;  // answered by this thread (Apply, Flush)
      } else if (o.consumed == 0) {
        continue;
      } else if (c.starved) {
        c.starved = false;
        wake = true;
      }
      // Bytes written here stay in `o` (emptied, storage kept) for the
      // caller to reuse; the rest moves to the command.
      cmds_.push_back(
          Cmd{Cmd::kSend, o.conn, -1, o.bytes.empty() ? std::string() : std::move(o.bytes), o.close_after, o.consumed});
      cmds_.back().notify_drained = o.notify_drained;
    }
    if (wake) WakeLocked();
  }

 private:
  struct Cmd {
    enum Kind { kAdd, kSend, kClose } kind;
    ConnId id;
    int fd;
    std::string bytes;
    bool close_after;
    uint32_t consumed = 0;
    bool notify_drained = false;                     // kSend: Out::notify_drained
    TlsStream::Mode mode = TlsStream::Mode::kPlain;  // kAdd
  };
  // Laid out without padding holes (the strings and pointers first, then
  // the 4-byte fields, then the flags): 104 bytes, one 128-byte malloc chunk
  // per connection with its hash-map node (idle-session memory, issue 10).
  struct Conn {
    std::string peer;
    LazyString in;
    LazyString out;
    size_t in_off = 0;
    size_t out_off = 0;
    std::unique_ptr<TlsStream> tls;  // null: a plain port's connection
    int fd = -1;
    uint32_t in_flight = 0;  // frames delivered, not yet consumed by the owner
    uint32_t events = 0;     // epoll mask currently registered
    // Shared with the threads that post (guarded by mu_): `direct` - a
    // plain connection with no output queued or posted here, so a poster
    // may write to the socket itself; `starved` - parsing stopped at
    // kMaxFramesInFlight, so a credit must wake this thread; `posted` -
    // sends queued for it (this thread counts those it applied in `applied`).
    uint32_t posted = 0;
    uint32_t applied = 0;
    bool direct = false;
    bool starved = false;
    bool started = false;         // first 4 bytes examined
    bool got_payload = false;     // a first frame was delivered
    bool reading = true;          // EPOLLIN wanted (false after a 4-letter word)
    bool paused = false;          // EPOLLIN held back by throttling
    bool backlogged = false;      // in backlogged_: frames left after a full pass
    bool want_write = false;      // EPOLLOUT armed
    bool close_after = false;     // close once `out` drains
    bool opened = false;          // kOpened was delivered (TLS: after the handshake)
    bool notify_drained = false;  // report kDrained at kDrainedMark (Flush)
  };
  static_assert(sizeof(Conn) <= 104, "net Conn grew: keep it free of padding holes");

  void Post(Cmd cmd) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.load()) {
      if (cmd.kind == Cmd::kAdd) ::close(cmd.fd);
      return;
    }
    if (cmd.kind == Cmd::kSend && (!cmd.bytes.empty() || cmd.close_after)) {
      auto it = conns_.find(cmd.id);
      if (it != conns_.end()) {
        it->second.direct = false;
        ++it->second.posted;
      }
    }
    cmds_.push_back(std::move(cmd));
    WakeLocked();
  }
  // With mu_ held, `c.direct` set: writes `bytes` to the socket without
  // blocking. True when all of it went; otherwise the part written is cut
  // from `bytes` and the rest goes through this worker as usual (an error
  // is found again, and handled, by its own send).
  static bool SendDirectLocked(Conn& c, std::string& bytes) {
    ssize_t n;
    do {
      n = ::send(c.fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == static_cast<ssize_t>(bytes.size())) return true;
    if (n > 0) bytes.erase(0, static_cast<size_t>(n));
    return false;
  }
  // Called with mu_ held (or before the worker runs): the eventfd is
  // closed only under mu_, so it is never written after Stop().
  void WakeLocked() {
    if (evfd_ < 0) return;
    uint64_t one = 1;
    ssize_t n = ::write(evfd_, &one, sizeof one);
    (void)n;
  }

  void Run() {
    base::RequestShortSlice();  // AVIARY_SCHED_SLICE_US, off by default (base/thread_slice.h)
    epoll_event events[kMaxEvents];
    std::vector<Cmd> cmds;
    while (!stopping_.load()) {
      int timeout_ms = !backlogged_.empty() ? 0 : !paused_.empty() ? 5 : !handshaking_.empty() ? 100 : 1000;
      int n = epoll_wait(epfd_, events, kMaxEvents, timeout_ms);
      if (n < 0 && errno != EINTR) {
        AV_LOG(kError, "epoll_wait: {}", std::strerror(errno));
        break;
      }
      for (int i = 0; i < n; ++i) {
        ConnId id = events[i].data.u64;
        if (id == 0) {
          uint64_t v;
          ssize_t r = ::read(evfd_, &v, sizeof v);
          (void)r;
          continue;
        }
        auto it = conns_.find(id);
        if (it == conns_.end()) continue;
        uint32_t e = events[i].events;
        if ((e & EPOLLIN) && !(e & (EPOLLHUP | EPOLLERR)) && Throttled()) {
          Pause(id, it->second);
        } else if (e & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
          if (!ReadFrom(id, it->second)) continue;
        }
        if (e & EPOLLOUT) {
          auto again = conns_.find(id);
          if (again == conns_.end()) continue;
          // Input held back by the output backlog (kOutputHighWater) is
          // parsed once the socket took enough of it: nothing else would
          // parse it when the client, waiting for those replies, sends
          // nothing more (its requests sat until its next ping).
          const bool held = Backlog(again->second) >= kOutputHighWater;
          Flush(id, again->second);
          again = conns_.find(id);
          if (held && again != conns_.end() && Backlog(again->second) < kOutputHighWater) {
            ParseFrames(id, again->second);
          }
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        cmds.swap(cmds_);
      }
      for (auto& c : cmds) Apply(c);
      cmds.clear();
      for (ConnId id : dirty_) {
        auto it = conns_.find(id);
        if (it != conns_.end()) Flush(id, it->second);
        it = conns_.find(id);
        if (it != conns_.end()) ParseFrames(id, it->second);
      }
      dirty_.clear();
      if (!backlogged_.empty()) {
        std::vector<ConnId> again;
        again.swap(backlogged_);
        for (ConnId id : again) {
          auto it = conns_.find(id);
          if (it == conns_.end()) continue;
          it->second.backlogged = false;
          ParseFrames(id, it->second);
        }
      }
      if (!paused_.empty() && !Throttled()) ResumeAll();
      if (!handshaking_.empty()) ExpireHandshakes();
      if (!drained_.empty() || !starved_.empty()) Publish();
      if (!frames_.empty()) Deliver();
    }
  }

  // Hands the pass's frames to the sink, the payloads as views into
  // pass_payloads_, then empties both (the buffer keeps its storage, up to
  // kKeepPassBytes, for the next pass).
  void Deliver() {
    for (Frame& f : frames_) {
      if (f.kind == Frame::Kind::kPayload)
        f.payload = std::string_view(pass_payloads_.data() + f.payload_off, f.payload_len);
    }
    sink_->OnFrames(frames_);
    frames_.clear();
    pass_payloads_.clear();
    if (pass_payloads_.capacity() > kKeepPassBytes) std::string().swap(pass_payloads_);
  }

  // Tells the posting threads (under mu_) which connections they may write
  // to directly again (all output written, every posted send applied) and
  // which wait for credit. Runs before the pass's frames go to the sink, so
  // their replies can take the direct path.
  void Publish() {
    std::lock_guard<std::mutex> lock(mu_);
    for (ConnId id : drained_) {
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      Conn& c = it->second;
      c.direct = c.tls == nullptr && c.out_off == c.out.size() && !c.close_after && c.posted == c.applied;
    }
    drained_.clear();
    for (ConnId id : starved_) {
      auto it = conns_.find(id);
      if (it != conns_.end() && it->second.in_flight >= ConnectionServer::kMaxFramesInFlight) it->second.starved = true;
    }
    starved_.clear();
    if (!cmds_.empty()) WakeLocked();  // credit posted before `starved` was set
  }

  void Apply(Cmd& c) {
    switch (c.kind) {
      case Cmd::kAdd: {
        Conn conn;
        conn.fd = c.fd;
        conn.peer = std::move(c.bytes);
        conn.events = EPOLLIN | EPOLLRDHUP;
        epoll_event ev{};
        ev.events = conn.events;
        ev.data.u64 = c.id;
        if (epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
          ::close(c.fd);
          ips_->Remove(IpOfPeer(conn.peer));
          total_->fetch_sub(1);
          return;
        }
        if (c.mode != TlsStream::Mode::kPlain) {
          conn.tls = std::make_unique<TlsStream>(c.mode, opts_.tls);
          handshaking_.emplace_back(c.id, SteadyMs() + opts_.tls->options().handshake_timeout_ms);
        }
        Conn* added_p;
        {
          std::lock_guard<std::mutex> lock(mu_);
          conn.direct = c.mode == TlsStream::Mode::kPlain;
          added_p = &conns_.emplace(c.id, std::move(conn)).first->second;
        }
        Conn& added = *added_p;
        if (c.mode == TlsStream::Mode::kPlain) ReportOpened(c.id, added);
        break;
      }
      case Cmd::kSend: {
        auto it = conns_.find(c.id);
        if (it == conns_.end()) return;
        Conn& conn = it->second;
        conn.in_flight -= std::min(conn.in_flight, c.consumed);
        if (!c.bytes.empty() || c.close_after) ++conn.applied;
        if (!c.bytes.empty()) {
          if (conn.out_off == conn.out.size()) {
            conn.out = std::move(c.bytes);
            conn.out_off = 0;
          } else {
            conn.out.append(c.bytes);
          }
        }
        if (c.close_after) conn.close_after = true;
        if (c.notify_drained) conn.notify_drained = true;
        if (conn.out.size() - conn.out_off > opts_.max_output_bytes) {
          AV_LOG(kWarn, "closing {}: output backlog over {} bytes", conn.peer, opts_.max_output_bytes);
          CloseConn(c.id);
          return;
        }
        dirty_.push_back(c.id);  // Flush, then parse what the credit allows
        break;
      }
      case Cmd::kClose:
        if (conns_.count(c.id)) CloseConn(c.id);
        break;
    }
  }

  // recv, and with rx_timestamps the receive timestamp of the data read
  // (TCP: of the last segment consumed) in read_arrival_.
  ssize_t Recv(int fd, char* buf, size_t len) {
    if (!opts_.rx_timestamps) return ::recv(fd, buf, len, 0);
    return RecvStamped(fd, buf, len, &read_arrival_);
  }

  // Returns false if the connection was closed.
  bool ReadFrom(ConnId id, Conn& c) {
    size_t total = 0;
    char buf[kReadChunk];
    read_arrival_ = 0;
    struct ClearArrival {
      int64_t* v;
      ~ClearArrival() { *v = 0; }  // frames parsed later (credit, backlog) carry none
    } clear_arrival{&read_arrival_};
    while (total < kMaxReadPerPass && Buffered(c) < max_buffered_in_) {
      ssize_t n = Recv(c.fd, buf, sizeof buf);
      if (n > 0) {
        if (c.tls == nullptr) {
          c.in.append(buf, static_cast<size_t>(n));
        } else if (!TlsInput(id, c, buf, static_cast<size_t>(n))) {
          return false;
        }
        total += static_cast<size_t>(n);
        if (static_cast<size_t>(n) < sizeof buf) break;
        continue;
      }
      if (n == 0) {
        ParseFrames(id, c);  // deliver what arrived before the close
        CloseConn(id);
        return false;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      CloseConn(id);
      return false;
    }
    if (c.tls != nullptr && c.tls->pending_out() > 0) {
      Flush(id, c);  // the handshake's reply, or records the read produced
      if (!conns_.count(id)) return false;
    }
    return ParseFrames(id, c);
  }

  // Raw input of a connection that is or may be TLS. False if it was closed.
  bool TlsInput(ConnId id, Conn& c, const char* buf, size_t n) {
    TlsStream::Input r = c.tls->OnRaw(buf, n, c.in.get());
    if (r.opened) ReportOpened(id, c);
    if (!r.close) return true;
    if (!r.why.empty()) {
      AV_LOG(kWarn, "closing {}: {}", c.peer, r.why);
      SendPendingOnce(c);  // the alert that tells the client why
    }
    ParseFrames(id, c);  // deliver what arrived before a clean close
    CloseConn(id);
    return false;
  }

  // Best effort, never blocking: the TLS alert before a close.
  static void SendPendingOnce(Conn& c) {
    if (c.tls->pending_out() == 0) return;
    ssize_t n = ::send(c.fd, c.tls->out.data() + c.tls->out_off, c.tls->pending_out(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)n;
  }

  void ReportOpened(ConnId id, Conn& c) {
    if (c.opened) return;
    c.opened = true;
    Frame f{Frame::Kind::kOpened, id, c.peer};
    if (c.tls != nullptr && !c.tls->plain()) {
      f.x509_subject = c.tls->subject();
      AV_LOG(kDebug, "TLS connection from {}: {}{}", c.peer, c.tls->describe(),
             f.x509_subject.empty() ? std::string() : ", client certificate " + f.x509_subject);
    }
    frames_.push_back(std::move(f));
  }

  // Closes the connections whose TLS handshake (or, on a unified port, the
  // first byte) did not arrive in time.
  void ExpireHandshakes() {
    int64_t now = SteadyMs();
    std::vector<std::pair<ConnId, int64_t>> keep;
    for (auto [id, deadline] : handshaking_) {
      auto it = conns_.find(id);
      if (it == conns_.end() || it->second.opened) continue;
      if (now < deadline) {
        keep.emplace_back(id, deadline);
        continue;
      }
      AV_LOG(kWarn, "closing {}: TLS handshake not finished within {} ms", it->second.peer,
             opts_.tls->options().handshake_timeout_ms);
      CloseConn(id);
    }
    handshaking_.swap(keep);
  }

  bool ParseFrames(ConnId id, Conn& c) {
    if (!c.reading) return true;
    if (!c.started) {
      if (c.in.size() - c.in_off < 4) return true;
      std::string_view first(c.in.data() + c.in_off, 4);
      if ((*is4_)(first)) {
        // "stmk" is followed by an 8-byte trace mask, part of the word.
        const size_t want = first == "stmk" ? 12 : 4;
        if (c.in.size() - c.in_off < want) return true;
        frames_.push_back(Frame{Frame::Kind::kFourLetter, id, std::string(c.in.data() + c.in_off, want)});
        c.in.clear();
        c.in_off = 0;
        StopReading(id, c);
        return true;
      }
      c.started = true;
    }
    size_t parsed = 0;
    while (c.in.size() - c.in_off >= 4) {
      if (c.in_flight >= ConnectionServer::kMaxFramesInFlight) {
        starved_.push_back(id);
        break;
      }
      if (Backlog(c) >= kOutputHighWater) break;
      if (parsed == kMaxFramesPerPass) {
        if (!c.backlogged) {
          c.backlogged = true;
          backlogged_.push_back(id);
        }
        break;
      }
      const auto* p = reinterpret_cast<const unsigned char*>(c.in.data() + c.in_off);
      int32_t len = static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) |
                                         uint32_t{p[3]});
      if (len < 0 || len > opts_.max_frame_bytes) {
        AV_LOG(kWarn, "closing {}: frame length {} outside [0, {}]", c.peer, len, opts_.max_frame_bytes);
        CloseConn(id);
        return false;
      }
      if (c.in.size() - c.in_off - 4 < static_cast<size_t>(len)) break;
      // The payload is copied into the pass's buffer (frames_'s views are
      // set when the pass hands them over: the buffer may grow until then).
      frames_.push_back(Frame{Frame::Kind::kPayload, id, {}, !c.got_payload});
      frames_.back().arrived_real_ns = read_arrival_;
      frames_.back().payload_off = pass_payloads_.size();
      frames_.back().payload_len = static_cast<size_t>(len);
      pass_payloads_.append(c.in.data() + c.in_off + 4, static_cast<size_t>(len));
      c.got_payload = true;
      c.in_off += 4 + static_cast<size_t>(len);
      ++c.in_flight;
      ++parsed;
    }
    if (c.in_off == c.in.size()) {
      c.in.Release();  // an idle connection keeps no buffer
      c.in_off = 0;
    } else if (c.in_off > (1u << 20)) {
      c.in.erase(0, c.in_off);
      c.in_off = 0;
    }
    UpdateEvents(id, c);
    return true;
  }

  static size_t Buffered(const Conn& c) { return c.in.size() - c.in_off; }
  static size_t Backlog(const Conn& c) {
    return c.out.size() - c.out_off + (c.tls != nullptr ? c.tls->pending_out() : 0);
  }

  bool Throttled() const { return opts_.throttled && opts_.throttled(); }

  void Pause(ConnId id, Conn& c) {
    if (c.paused) return;
    c.paused = true;
    paused_.push_back(id);
    UpdateEvents(id, c);
  }

  void ResumeAll() {
    for (ConnId id : paused_) {
      auto it = conns_.find(id);
      if (it == conns_.end()) continue;
      it->second.paused = false;
      UpdateEvents(id, it->second);
    }
    paused_.clear();
  }

  void StopReading(ConnId id, Conn& c) {
    c.reading = false;
    UpdateEvents(id, c);
  }

  // Registers the events the connection wants now; a no-op (no syscall)
  // when they did not change. Input is not wanted while it is paused by
  // back-pressure or while the unparsed input buffer is full.
  void UpdateEvents(ConnId id, Conn& c) {
    bool want_in = c.reading && !c.paused && Buffered(c) < max_buffered_in_;
    uint32_t mask = (want_in ? (EPOLLIN | EPOLLRDHUP) : 0u) | (c.want_write ? EPOLLOUT : 0u);
    if (mask == c.events) return;
    c.events = mask;
    epoll_event ev{};
    ev.events = mask;
    ev.data.u64 = id;
    epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // Arms or disarms EPOLLOUT.
  void WantWrite(ConnId id, Conn& c, bool want) {
    if (c.want_write == want) return;
    c.want_write = want;
    UpdateEvents(id, c);
  }

  // Sends pending ciphertext, then encrypts the next chunk of plaintext
  // (once the handshake is done), until the socket would block.
  void FlushTls(ConnId id, Conn& c) {
    TlsStream& t = *c.tls;
    while (true) {
      // Ciphertext collects until a chunk's worth (or the end of the
      // plaintext), so one-record-per-reply costs no extra sends.
      const bool more_plain = t.ready() && c.out_off < c.out.size();
      if (t.pending_out() > 0 && (!more_plain || t.pending_out() >= kTlsEncryptChunk)) {
        ssize_t n = ::send(c.fd, t.out.data() + t.out_off, t.pending_out(), MSG_NOSIGNAL);
        if (n > 0) {
          t.out_off += static_cast<size_t>(n);
          if (t.out_off == t.out.size()) {
            t.out.clear();
            t.out_off = 0;
          }
          continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return WantWrite(id, c, true);
        CloseConn(id);
        return;
      }
      if (!more_plain) break;
      size_t chunk = t.NextSpan(c.out.data() + c.out_off, c.out.size() - c.out_off, kTlsEncryptChunk);
      std::string why;
      if (!t.Encrypt(c.out.data() + c.out_off, chunk, &why)) {
        AV_LOG(kWarn, "closing {}: {}", c.peer, why);
        CloseConn(id);
        return;
      }
      c.out_off += chunk;
    }
    if (c.out_off < c.out.size()) return;  // waits for the handshake
    c.out.clear();
    c.out_off = 0;
    WantWrite(id, c, false);
    if (c.close_after) CloseConn(id);
  }

  // Writes what it can; then, when the owner asked and at most
  // kDrainedMark is left unwritten, reports kDrained.
  void Flush(ConnId id, Conn& c) {
    const bool notify = c.notify_drained;
    WriteOut(id, c);
    if (!notify) return;
    auto it = conns_.find(id);  // closed by a failed write or close_after: no report
    if (it == conns_.end() || Backlog(it->second) > ConnectionServer::kDrainedMark) return;
    it->second.notify_drained = false;
    frames_.push_back(Frame{Frame::Kind::kDrained, id, {}});
  }

  void WriteOut(ConnId id, Conn& c) {
    if (c.tls != nullptr && !c.tls->plain()) return FlushTls(id, c);
    const bool had_output = c.out_off < c.out.size();
    while (c.out_off < c.out.size()) {
      ssize_t n = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_off += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!c.want_write) {
          c.want_write = true;
          UpdateEvents(id, c);
        }
        return;
      }
      CloseConn(id);
      return;
    }
    c.out.Release();  // an idle connection keeps no buffer
    c.out_off = 0;
    if (c.want_write) {
      c.want_write = false;
      UpdateEvents(id, c);
    }
    if (c.close_after) {
      CloseConn(id);
      return;
    }
    if (had_output) drained_.push_back(id);
  }

  void CloseConn(ConnId id) {
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    epoll_ctl(epfd_, EPOLL_CTL_DEL, it->second.fd, nullptr);
    ips_->Remove(IpOfPeer(it->second.peer));
    total_->fetch_sub(1);
    bool opened = it->second.opened;
    {
      // Under mu_: a poster never writes to a closed (or reused) fd.
      std::lock_guard<std::mutex> lock(mu_);
      ::close(it->second.fd);
      conns_.erase(it);
    }
    if (opened) frames_.push_back(Frame{Frame::Kind::kClosed, id, {}});
  }

  int index_;
  const ServerOptions& opts_;
  FrameSink* sink_;
  std::function<bool(std::string_view)>* is4_;
  IpCounter* ips_;
  std::atomic<size_t>* total_;
  int epfd_ = -1;
  int evfd_ = -1;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> seq_{0};
  std::mutex mu_;
  std::vector<Cmd> cmds_;
  std::unordered_map<ConnId, Conn> conns_;
  std::vector<ConnId> dirty_;
  std::vector<ConnId> paused_;
  std::vector<ConnId> backlogged_;
  std::vector<ConnId> drained_;                          // output written out: may become `direct` (Publish)
  std::vector<ConnId> starved_;                          // stopped at kMaxFramesInFlight (Publish)
  std::vector<std::pair<ConnId, int64_t>> handshaking_;  // TLS or undecided connections and their deadlines
  size_t max_buffered_in_ = 2u << 20;
  int64_t read_arrival_ = 0;  // rx_timestamps: the receive timestamp of ReadFrom's data
  std::vector<Frame> frames_;
  std::string pass_payloads_;  // the payloads of frames_, back to back (Deliver)
};

// One listening socket and the kind of connections it takes.
struct Listener {
  int fd = -1;
  uint16_t port = 0;
  TlsStream::Mode mode = TlsStream::Mode::kPlain;
  std::thread acceptor;
};

// A socket listening on host:port (no host: the wildcard, as ZooKeeper's
// InetSocketAddress(port) - dual-stack `::` where IPv6 exists, else
// 0.0.0.0), or -1 with *error.
int ListenSocket(const std::string& bind_address, uint16_t port, int backlog, uint16_t* bound, std::string* error) {
  std::string port_s = std::to_string(port);
  std::vector<std::string> hosts = {bind_address};
  if (bind_address.empty()) hosts = {"::", "0.0.0.0"};
  int fd = -1;
  for (const std::string& host : hosts) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* res = nullptr;
    int rc = getaddrinfo(host.c_str(), port_s.c_str(), &hints, &res);
    if (rc != 0) {
      *error = "cannot resolve " + host + ": " + gai_strerror(rc);
      continue;
    }
    for (const addrinfo* ai : ListenOrder(res)) {
      fd = ListenOn(*ai, backlog, host + ":" + port_s, error);
      if (fd >= 0) break;
    }
    freeaddrinfo(res);
    if (fd >= 0) break;
  }
  if (fd < 0) {
    if (error->empty()) *error = "cannot listen on " + bind_address + ":" + port_s;
    return -1;
  }
  error->clear();
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  *bound = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  return fd;
}

class ConnectionServer::Impl {
 public:
  Impl(ServerOptions o, FrameSink* sink, std::function<bool(std::string_view)> is4)
      : opts(std::move(o)), sink(sink), is4(std::move(is4)) {}

  bool AddListener(const std::string& host, uint16_t port, TlsStream::Mode mode, std::string* error) {
    auto l = std::make_unique<Listener>();
    l->mode = mode;
    l->fd = ListenSocket(host, port, opts.listen_backlog, &l->port, error);
    if (l->fd < 0) return false;
    listeners.push_back(std::move(l));
    return true;
  }

  bool Start(std::string* error) {
    if ((opts.secure_enabled || opts.unified) && opts.tls == nullptr) {
      *error = "TLS listener without a TLS context";
      return false;
    }
    if (opts.plain_enabled) {
      TlsStream::Mode mode = opts.unified ? TlsStream::Mode::kDetect : TlsStream::Mode::kPlain;
      if (!AddListener(opts.bind_address, opts.port, mode, error)) return false;
      plain_port = listeners.back()->port;
    }
    if (opts.secure_enabled) {
      if (!AddListener(opts.secure_bind_address, opts.secure_port, TlsStream::Mode::kTls, error)) return false;
      secure_port = listeners.back()->port;
    }
    if (listeners.empty()) {
      *error = "no client port to listen on";
      return false;
    }
    int n = opts.io_threads < 1 ? 1 : opts.io_threads;
    for (int i = 0; i < n; ++i) {
      workers.push_back(std::make_unique<Worker>(i, opts, sink, &is4, &ips, &total));
      if (!workers.back()->Init(error)) return false;
    }
    for (auto& w : workers) w->StartThread();
    for (auto& l : listeners) {
      Listener* raw = l.get();
      l->acceptor = std::thread([this, raw] {
        pthread_setname_np(pthread_self(), "av-accept");  // for top -H / perf
        AcceptLoop(*raw);
      });
    }
    return true;
  }

  void AcceptLoop(Listener& l) {
    while (!stopping.load()) {
      sockaddr_storage ss{};
      socklen_t len = sizeof ss;
      int fd = ::accept4(l.fd, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping.load()) return;
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) {
          AV_LOG(kWarn, "accept: {}; pausing", std::strerror(errno));
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          continue;
        }
        if (errno == EINVAL) return;  // listener shut down
        continue;
      }
      std::string peer = PeerString(ss);
      std::string ip = IpOfPeer(peer);
      if (total.load() >= static_cast<size_t>(opts.max_connections)) {
        AV_LOG(kWarn, "refusing {}: {} connections open", peer, total.load());
        metrics::Server().connection_rejected.Add();
        ::close(fd);
        continue;
      }
      if (!ips.TryAdd(ip, opts.max_per_ip)) {
        AV_LOG(kWarn, "Too many connections from {} - max is {}", ip, opts.max_per_ip);
        metrics::Server().connection_rejected.Add();
        ::close(fd);
        continue;
      }
      total.fetch_add(1);
      int one = 1;
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (opts.rx_timestamps) setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
      Worker& w = *workers[next_worker.fetch_add(1) % workers.size()];
      w.PostAdd(fd, w.NextId(), std::move(peer), l.mode);
    }
  }

  void Stop() {
    if (stopping.exchange(true)) return;
    for (auto& l : listeners) {
      if (l->fd >= 0) ::shutdown(l->fd, SHUT_RDWR);
    }
    for (auto& l : listeners) {
      if (l->acceptor.joinable()) l->acceptor.join();
      if (l->fd >= 0) ::close(l->fd);
      l->fd = -1;
    }
    for (auto& w : workers) w->Stop();
  }

  Worker* WorkerOf(ConnId id) {
    size_t i = id & ((1u << kWorkerBits) - 1);
    return i < workers.size() ? workers[i].get() : nullptr;
  }

  ServerOptions opts;
  FrameSink* sink;
  std::function<bool(std::string_view)> is4;
  IpCounter ips;
  std::atomic<size_t> total{0};
  std::atomic<bool> stopping{false};
  std::atomic<size_t> next_worker{0};
  std::vector<std::unique_ptr<Listener>> listeners;
  uint16_t plain_port = 0;
  uint16_t secure_port = 0;
  std::vector<std::unique_ptr<Worker>> workers;
};

ConnectionServer::ConnectionServer(ServerOptions options, FrameSink* sink,
                                   std::function<bool(std::string_view)> is_four_letter)
    : impl_(std::make_unique<Impl>(std::move(options), sink, std::move(is_four_letter))) {}
ConnectionServer::~ConnectionServer() { Stop(); }
bool ConnectionServer::Start(std::string* error) { return impl_->Start(error); }
void ConnectionServer::Stop() { impl_->Stop(); }
uint16_t ConnectionServer::port() const { return impl_->plain_port; }
uint16_t ConnectionServer::secure_port() const { return impl_->secure_port; }
size_t ConnectionServer::connection_count() const { return impl_->total.load(); }

void ConnectionServer::Send(ConnId conn, std::string bytes, bool close_after) {
  if (Worker* w = impl_->WorkerOf(conn)) w->PostSend(conn, std::move(bytes), close_after);
}
void ConnectionServer::SendBatch(std::vector<Out>& batch, bool writes) {
  // Each worker is locked (and woken) at most once per batch.
  const size_t n = impl_->workers.size();
  bool direct = true;
  if (const int max = impl_->opts.direct_send_max; writes && max >= 0) {
    size_t with_bytes = 0;
    for (const Out& o : batch) with_bytes += o.bytes.empty() ? 0 : 1;
    direct = with_bytes <= static_cast<size_t>(max);
  }
  for (size_t i = 0; i < n; ++i) impl_->workers[i]->PostBatch(batch, i, n, direct);
  for (Out& o : batch) o.bytes.clear();  // a connection that is gone: dropped (storage kept)
}
void ConnectionServer::Close(ConnId conn) {
  if (Worker* w = impl_->WorkerOf(conn)) w->PostClose(conn);
}

}  // namespace aviary::net
