// vm_probe: what a system call, a thread wake-up and a short sleep cost on
// this machine. On the shared VM these dominate latency and CPU per request
// at moderate rates (docs/PERFORMANCE.md, "How to read this run").
//
//   cc -O2 -pthread -o /tmp/vm_probe bench/vm_probe.c && /tmp/vm_probe
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { kSyscalls = 200000, kPingPongs = 20000, kSleeps = 2000 };

static int ping_fd, pong_fd;

static double NowS(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void* Pong(void* arg) {
  (void)arg;
  uint64_t v;
  for (int i = 0; i < kPingPongs; i++) {
    if (read(ping_fd, &v, sizeof v) != sizeof v || write(pong_fd, &v, sizeof v) != sizeof v) break;
  }
  return NULL;
}

int main(void) {
  double t = NowS();
  for (int i = 0; i < kSyscalls; i++) syscall(SYS_getppid);
  printf("system call (getppid): %.2f us\n", (NowS() - t) / kSyscalls * 1e6);

  ping_fd = eventfd(0, 0);
  pong_fd = eventfd(0, 0);
  pthread_t thread;
  pthread_create(&thread, NULL, Pong, NULL);
  uint64_t v = 1;
  t = NowS();
  for (int i = 0; i < kPingPongs; i++) {
    if (write(ping_fd, &v, sizeof v) != sizeof v || read(pong_fd, &v, sizeof v) != sizeof v) break;
  }
  printf("eventfd ping-pong between two threads: %.2f us per round trip\n", (NowS() - t) / kPingPongs * 1e6);
  pthread_join(thread, NULL);

  struct timespec sleep = {0, 50000};
  t = NowS();
  for (int i = 0; i < kSleeps; i++) nanosleep(&sleep, NULL);
  printf("nanosleep(50 us) returns after %.1f us\n", (NowS() - t) / kSleeps * 1e6);
  return 0;
}
