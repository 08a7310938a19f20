// A minimal io_uring (raw system calls, no liburing) for aviary-bench's
// pipelined loop: one ring per load thread, created and used by that thread
// only (IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN when the kernel has
// them). A pass queues every connection's send and re-armed receive and
// then makes one io_uring_enter that submits them and waits for the next
// completion, where the epoll loop needs epoll_wait plus a read and a write
// per ready connection: on this machine (PTI) system calls are dear.
#pragma once

#include <linux/io_uring.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace aviary::bench {

class Uring {
 public:
  Uring() = default;
  ~Uring();
  Uring(const Uring&) = delete;
  Uring& operator=(const Uring&) = delete;

  // A ring of `entries` submission slots (a power of two, <= 32768).
  bool Init(unsigned entries, std::string* error);
  // A zeroed submission slot with user_data set, or null when all slots are
  // queued (Submit first). Queued slots go to the kernel at the next Enter.
  io_uring_sqe* Sqe(uint64_t user_data);
  // Submits what is queued and waits until at least `wait_nr` completions
  // are there (0: no wait) or `timeout_ns` passed. False on an unexpected
  // error.
  bool Enter(unsigned wait_nr, int64_t timeout_ns);
  // Calls f(const io_uring_cqe&) for every completion there and consumes them.
  template <typename F>
  void Completions(F&& f) {
    unsigned head = *cq_head_;  // only this thread moves it
    unsigned tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
    for (; head != tail; head++) f(cqes_[head & cq_mask_]);
    __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
  }

 private:
  int fd_ = -1;
  unsigned flags_ = 0;
  void* ring_ = nullptr;
  size_t ring_len_ = 0;
  void* sqe_mem_ = nullptr;
  size_t sqe_len_ = 0;
  // In the shared ring memory: the kernel moves sq_head_ and cq_tail_.
  unsigned *sq_head_ = nullptr, *sq_tail_ = nullptr;
  unsigned *cq_head_ = nullptr, *cq_tail_ = nullptr;
  unsigned* sq_array_ = nullptr;
  unsigned sq_mask_ = 0, sq_entries_ = 0, cq_mask_ = 0;
  io_uring_sqe* sqes_ = nullptr;
  io_uring_cqe* cqes_ = nullptr;
  unsigned local_tail_ = 0;  // queued, not yet published
  unsigned to_submit_ = 0;
};

// Whether io_uring works here (some sandboxes forbid it); tried once.
bool UringAvailable();

}  // namespace aviary::bench
