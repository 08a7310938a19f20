// vm_probe: what a system call, a thread wake-up and a short sleep cost on
// this machine. On the shared VM these dominate latency and CPU per request
// at moderate rates (docs/PERFORMANCE.md, "How to read this run").
//
//   cc -O2 -pthread -o /tmp/vm_probe bench/vm_probe.c && /tmp/vm_probe
//
// `--fsync DIR [N]`: the durable-write floor instead - N (2000) writes of
// 100 bytes, each made durable before the next, in a scratch file in DIR
// (use the data directory's filesystem), p50 / p99 / p99.9 per kind:
//   append   - write + fdatasync at the end of a growing file (the size
//              changes: a journal commit per fdatasync);
//   falloc   - the same into a fallocate()d file (unwritten extents: each
//              fdatasync converts the written range, a journal commit);
//   falloc dsync - pwritev2(RWF_DSYNC) into a fallocate()d file (what the
//              log does: one call per group);
//   zeroed   - write + fdatasync over blocks written (zeros) and synced
//              beforehand: no metadata to commit, data and cache flush only;
//   zeroed dsync - pwritev2(RWF_DSYNC) over zeroed blocks.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/uio.h>
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

static int CmpDouble(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

static double Pct(const double* sorted, int n, double q) {
  int i = (int)(q * n + 0.999999) - 1;
  return sorted[i < 0 ? 0 : i >= n ? n - 1 : i];
}

// One kind of durable 100-byte write, n times; prints p50/p99/p99.9/max in us.
static int ProbeFsync(const char* dir, const char* kind, int n, int prealloc, int zeroed, int dsync) {
  char path[4096];
  snprintf(path, sizeof path, "%s/vm_probe.fsync.%d", dir, (int)getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    perror(path);
    return 1;
  }
  const off_t span = (off_t)n * 128 + 4096;
  if (prealloc && fallocate(fd, 0, 0, span) != 0) perror("fallocate");
  if (zeroed) {
    static char zeros[1 << 16];
    for (off_t off = 0; off < span; off += (off_t)sizeof zeros) {
      if (pwrite(fd, zeros, sizeof zeros, off) != (ssize_t)sizeof zeros) perror("pwrite zeros");
    }
    fsync(fd);
  }
  char rec[100];
  memset(rec, 'r', sizeof rec);
  double* us = malloc(sizeof(double) * (size_t)n);
  for (int i = 0; i < n; i++) {
    off_t off = (off_t)i * (off_t)sizeof rec;
    double t = NowS();
    if (dsync) {
      struct iovec v = {rec, sizeof rec};
      if (pwritev2(fd, &v, 1, off, RWF_DSYNC) != (ssize_t)sizeof rec) perror("pwritev2");
    } else if (pwrite(fd, rec, sizeof rec, off) != (ssize_t)sizeof rec || fdatasync(fd) != 0) {
      perror("pwrite/fdatasync");
    }
    us[i] = (NowS() - t) * 1e6;
  }
  qsort(us, (size_t)n, sizeof *us, CmpDouble);
  printf("durable 100 B write, %-13s p50 %6.0f us  p90 %6.0f  p99 %6.0f  p99.9 %6.0f  max %6.0f  (%d writes)\n", kind,
         Pct(us, n, 0.5), Pct(us, n, 0.9), Pct(us, n, 0.99), Pct(us, n, 0.999), us[n - 1], n);
  free(us);
  close(fd);
  unlink(path);
  return 0;
}

static int FsyncFloor(const char* dir, int n) {
  int rc = 0;
  rc |= ProbeFsync(dir, "append", n, 0, 0, 0);
  rc |= ProbeFsync(dir, "falloc", n, 1, 0, 0);
  rc |= ProbeFsync(dir, "falloc dsync", n, 1, 0, 1);
  rc |= ProbeFsync(dir, "zeroed", n, 0, 1, 0);
  rc |= ProbeFsync(dir, "zeroed dsync", n, 0, 1, 1);
  return rc;
}

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "--fsync") == 0) return FsyncFloor(argv[2], argc >= 4 ? atoi(argv[3]) : 2000);
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
