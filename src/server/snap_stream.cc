#include "server/snap_stream.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "server/thread_placement.h"
#include "zkformat/snapshot.h"

namespace aviary::server {

namespace {

constexpr int kChildFd = 3;  // the pipe's write end in the child

bool WriteAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;  // EPIPE: the leader dropped the stream
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// In the child: everything but the pipe is closed (a client whose
// connection the server closes must see it closed now), the body and the
// signature go into the pipe, and the child leaves without running any exit
// handler of the parent's image.
[[noreturn]] void ChildWrite(const tree::DataTree& tree, const std::vector<storage::SessionRecord>& sessions,
                             int write_fd, pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(1);  // the server died before prctl
  if (::dup2(write_fd, kChildFd) != kChildFd) ::_exit(1);
  ::close_range(kChildFd + 1, ~0U, 0);
  const auto sink = [](std::string_view piece) { return WriteAll(kChildFd, piece); };
  bool ok = zkformat::WriteSnapshotBody(tree, sessions, sink);
  std::string signature;
  zkformat::WriteSnapSignature(&signature);
  ok = ok && WriteAll(kChildFd, signature);
  ::_exit(ok ? 0 : 1);
}

}  // namespace

std::unique_ptr<SnapStream> SnapStream::Start(const tree::DataTree& tree,
                                              const std::vector<storage::SessionRecord>& sessions, std::string* error) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return nullptr;
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    ::close(fds[0]);
    ::close(fds[1]);
    return nullptr;
  }
  if (pid == 0) {
    placement::UnconfineForkedChild();  // forked by the core thread: not confined with it
    ChildWrite(tree, sessions, fds[1], parent);
  }
  ::close(fds[1]);
  ::fcntl(fds[0], F_SETFL, ::fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  return std::unique_ptr<SnapStream>(new SnapStream(fds[0], pid));
}

SnapStream::~SnapStream() {
  if (fd_ >= 0) ::close(fd_);
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

SnapStream::Status SnapStream::Reap() {
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == 0) return Status::kMore;  // it closed the pipe and is exiting
  pid_ = 0;
  if (r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return Status::kDone;
  error_ = "the snapshot child failed (status " + std::to_string(status) + ")";
  return Status::kFailed;
}

SnapStream::Status SnapStream::Read(size_t max_bytes, std::string* out) {
  if (!error_.empty()) return Status::kFailed;
  if (pid_ == 0) return Status::kDone;
  size_t got = 0;
  while (!eof_ && got < max_bytes) {
    const size_t at = out->size();
    out->resize(at + (max_bytes - got));
    const ssize_t n = ::read(fd_, out->data() + at, max_bytes - got);
    out->resize(at + static_cast<size_t>(n > 0 ? n : 0));
    if (n > 0) {
      got += static_cast<size_t>(n);
      bytes_read_ += n;
    } else if (n == 0) {
      eof_ = true;
    } else if (errno == EAGAIN) {
      return Status::kMore;
    } else if (errno != EINTR) {
      error_ = std::string("reading the snapshot pipe: ") + std::strerror(errno);
      return Status::kFailed;
    }
  }
  return eof_ ? Reap() : Status::kMore;
}

}  // namespace aviary::server
