// base/thread_slice: a thread asks for a short EEVDF slice (opt-in).
#include "base/thread_slice.h"

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <thread>

namespace aviary::base {
namespace {

TEST(ThreadSlice, OffUnlessTheEnvironmentAsks) {
  // The tests run without AVIARY_SCHED_SLICE_US.
  EXPECT_EQ(ShortSliceUs(), 0);
  std::thread t([] {
    EXPECT_FALSE(RequestShortSlice());  // nothing requested
    EXPECT_FALSE(RequestShortSlice(0));
  });
  t.join();
}

TEST(ThreadSlice, RequestKeepsTheNiceLevelAndSetsTheSlice) {
  std::thread t([] {
    ASSERT_EQ(setpriority(PRIO_PROCESS, 0, 3), 0);  // this thread only (Linux)
    const bool took = RequestShortSlice(200);
    EXPECT_EQ(getpriority(PRIO_PROCESS, 0), 3);  // nice level kept
    // Kernels that report a thread's slice (6.12+) report the requested one.
    if (took && CurrentSliceUs() != 0) {
      EXPECT_EQ(CurrentSliceUs(), 200);
    }
  });
  t.join();
}

}  // namespace
}  // namespace aviary::base
