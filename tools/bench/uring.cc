#include "uring.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace aviary::bench {

namespace {

int Setup(unsigned entries, io_uring_params* p) { return static_cast<int>(syscall(__NR_io_uring_setup, entries, p)); }

template <typename T>
T* At(void* base, unsigned off) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + off);
}

}  // namespace

Uring::~Uring() {
  if (sqe_mem_) munmap(sqe_mem_, sqe_len_);
  if (ring_) munmap(ring_, ring_len_);
  if (fd_ >= 0) close(fd_);
}

bool Uring::Init(unsigned entries, std::string* error) {
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  fd_ = Setup(entries, &p);
  if (fd_ < 0 && errno == EINVAL) {  // an older kernel: plain ring
    p = io_uring_params{};
    fd_ = Setup(entries, &p);
  }
  if (fd_ < 0 || !(p.features & IORING_FEAT_SINGLE_MMAP) || !(p.features & IORING_FEAT_EXT_ARG)) {
    *error = std::string("io_uring: ") + (fd_ < 0 ? std::strerror(errno) : "kernel too old");
    return false;
  }
  flags_ = p.flags;
  size_t sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_len = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  ring_len_ = sq_len > cq_len ? sq_len : cq_len;
  void* ring = mmap(nullptr, ring_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQ_RING);
  sqe_len_ = p.sq_entries * sizeof(io_uring_sqe);
  void* sqes = mmap(nullptr, sqe_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd_, IORING_OFF_SQES);
  if (ring == MAP_FAILED || sqes == MAP_FAILED) {
    if (ring != MAP_FAILED) munmap(ring, ring_len_);
    if (sqes != MAP_FAILED) munmap(sqes, sqe_len_);
    *error = std::string("io_uring mmap: ") + std::strerror(errno);
    return false;
  }
  ring_ = ring;
  sqe_mem_ = sqes;
  sq_head_ = At<unsigned>(ring, p.sq_off.head);
  sq_tail_ = At<unsigned>(ring, p.sq_off.tail);
  sq_mask_ = *At<unsigned>(ring, p.sq_off.ring_mask);
  sq_entries_ = p.sq_entries;
  sq_array_ = At<unsigned>(ring, p.sq_off.array);
  cq_head_ = At<unsigned>(ring, p.cq_off.head);
  cq_tail_ = At<unsigned>(ring, p.cq_off.tail);
  cq_mask_ = *At<unsigned>(ring, p.cq_off.ring_mask);
  cqes_ = At<io_uring_cqe>(ring, p.cq_off.cqes);
  sqes_ = static_cast<io_uring_sqe*>(sqes);
  local_tail_ = *sq_tail_;
  return true;
}

io_uring_sqe* Uring::Sqe(uint64_t user_data) {
  if (local_tail_ - __atomic_load_n(sq_head_, __ATOMIC_ACQUIRE) >= sq_entries_) return nullptr;
  unsigned idx = local_tail_ & sq_mask_;
  io_uring_sqe* sqe = &sqes_[idx];
  std::memset(sqe, 0, sizeof(*sqe));
  sqe->user_data = user_data;
  sq_array_[idx] = idx;
  local_tail_++;
  to_submit_++;
  return sqe;
}

bool Uring::Enter(unsigned wait_nr, int64_t timeout_ns) {
  __atomic_store_n(sq_tail_, local_tail_, __ATOMIC_RELEASE);
  unsigned flags = IORING_ENTER_EXT_ARG;
  // With DEFER_TASKRUN completions are only reaped inside GETEVENTS.
  if (wait_nr > 0 || (flags_ & IORING_SETUP_DEFER_TASKRUN)) flags |= IORING_ENTER_GETEVENTS;
  __kernel_timespec ts{timeout_ns / 1'000'000'000, timeout_ns % 1'000'000'000};
  io_uring_getevents_arg arg{};
  arg.sigmask_sz = _NSIG / 8;
  arg.ts = wait_nr > 0 ? reinterpret_cast<uint64_t>(&ts) : 0;
  long rc = syscall(__NR_io_uring_enter, fd_, to_submit_, wait_nr, flags, &arg, sizeof(arg));
  if (rc >= 0) {
    to_submit_ -= static_cast<unsigned>(rc) < to_submit_ ? static_cast<unsigned>(rc) : to_submit_;
    return true;
  }
  return errno == ETIME || errno == EINTR || errno == EAGAIN || errno == EBUSY;
}

bool UringAvailable() {
  static const bool ok = [] {
    Uring u;
    std::string error;
    return u.Init(8, &error);
  }();
  return ok;
}

}  // namespace aviary::bench
