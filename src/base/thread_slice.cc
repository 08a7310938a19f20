#include "base/thread_slice.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>

namespace aviary::base {

namespace {

// struct sched_attr (linux/sched/types.h), not in glibc 2.36's headers.
struct SchedAttr {
  uint32_t size;
  uint32_t sched_policy;
  uint64_t sched_flags;
  int32_t sched_nice;
  uint32_t sched_priority;
  uint64_t sched_runtime;
  uint64_t sched_deadline;
  uint64_t sched_period;
  uint32_t sched_util_min;
  uint32_t sched_util_max;
};

bool GetAttr(SchedAttr* a) {
  *a = SchedAttr{};
  return syscall(SYS_sched_getattr, 0, a, static_cast<unsigned>(sizeof *a), 0u) == 0;
}

}  // namespace

int64_t ShortSliceUs() {
  static const int64_t us = [] {
    const char* v = std::getenv("AVIARY_SCHED_SLICE_US");
    if (v == nullptr || *v == '\0') return int64_t{0};
    char* end = nullptr;
    const long long n = std::strtoll(v, &end, 10);
    if (end == v || *end != '\0' || n < 0) return int64_t{0};
    return static_cast<int64_t>(n);
  }();
  return us;
}

bool RequestShortSlice(int64_t us) {
  if (us <= 0) return false;
  SchedAttr a;
  if (!GetAttr(&a)) return false;
  if (a.sched_policy != SCHED_OTHER && a.sched_policy != SCHED_BATCH) return false;  // real-time: leave it
  a.size = sizeof a;
  a.sched_flags = 0;
  a.sched_runtime = static_cast<uint64_t>(us) * 1000;
  return syscall(SYS_sched_setattr, 0, &a, 0u) == 0;
}

int64_t CurrentSliceUs() {
  SchedAttr a;
  if (!GetAttr(&a)) return 0;
  return static_cast<int64_t>(a.sched_runtime / 1000);
}

}  // namespace aviary::base
