// The server-side TLS context of the client port, built from TlsOptions as
// ZooKeeper's X509Util + SSLContextAndOptions configure theirs, and kept
// current when the store files change (client.certReload).
//
// Owns: the SSL_CTX (shared; every SSL made from it holds its own
// reference, so a reload never touches established connections), the
// mapping of Java cipher-suite / protocol names to OpenSSL's, and the
// reload thread (inotify on the stores' directories, as ZooKeeper's
// FileChangeWatcher: a create or modify of the store file rebuilds the
// context; a build that fails keeps the previous one and logs why).
// Thread use: Current() from any thread (I/O threads, once per new
// connection); Start/Stop from the controlling thread.
#pragma once

#include <openssl/ssl.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tls/options.h"

namespace aviary::tls {

using SslCtxPtr = std::shared_ptr<SSL_CTX>;

// A server SSL_CTX for `opts`, or null with *error (naming the key).
// *warnings gets the settings it could only partly honour (unknown cipher
// suite names, which are skipped).
SslCtxPtr BuildServerContext(const TlsOptions& opts, std::vector<std::string>* warnings, std::string* error);

class ContextSource {
 public:
  explicit ContextSource(TlsOptions opts) : opts_(std::move(opts)) {}
  ~ContextSource();
  ContextSource(const ContextSource&) = delete;
  ContextSource& operator=(const ContextSource&) = delete;

  // Builds the first context (logging its warnings); with cert_reload,
  // starts watching the store files.
  bool Start(std::string* error);
  void Stop();
  // The context new handshakes use.
  SslCtxPtr Current() const;
  const TlsOptions& options() const { return opts_; }
  // How many times the context was rebuilt after a file change.
  uint64_t reloads() const { return reloads_.load(); }
  // Rebuilds now (what a file change does). False (old context kept) on error.
  bool Reload(std::string* error);

 private:
  void WatchLoop();

  TlsOptions opts_;
  mutable std::mutex mu_;
  SslCtxPtr current_;
  std::atomic<uint64_t> reloads_{0};
  std::atomic<bool> stopping_{false};
  int inotify_fd_ = -1;
  int stop_fd_ = -1;
  std::thread watcher_;
};

}  // namespace aviary::tls
