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
//   zeroed dsync - pwritev2(RWF_DSYNC) over zeroed blocks;
//   flush only - fdatasync of a file with nothing dirty (ext4 still sends
//              the disk a cache flush): the device's own floor.
//
// `--fsync-par DIR [SECONDS] [BYTES] [ROUNDS]`: can two durable writes be in
// flight at once on this disk? For fallocate()d and zeroed files, 1 thread
// vs 2 threads each doing pwritev2(RWF_DSYNC) of BYTES (100) back to back
// for SECONDS (2) - the 2 threads either taking turns at the end of one
// log (`contig`: a shared offset, as two log groups in flight would) or in
// two ranges 32 MiB apart (`disjoint`) - printing durable writes per second
// (all threads) and the per-write p50 / p99, ROUNDS (3) times interleaved.
// If two threads do not reach clearly more writes/s than one, the disk (or
// the VMM behind it) runs one write+flush at a time and a second group in
// flight cannot pay.
//
// `--fsync-idle DIR [N] [ROUNDS]`: does a halted vCPU lengthen a durable write
// (and a thread wake-up)? ROUNDS (6) interleaved rounds of N (300) durable
// 100 B writes over zeroed blocks, each kind in turn: `buffered` (the log's
// pwritev2(RWF_DSYNC)), `direct` (O_DIRECT + RWF_DSYNC of the 512 B sectors
// that hold the record), and `buffered+poll` / `eventfd+poll`: the same with
// one SCHED_IDLE spinner pinned to every CPU (a CPU then never goes idle and
// never halts, but any other thread preempts the spinner at once), beside
// `eventfd` (the ping-pong of the default mode). p10 / p50 / p90 per kind and
// the process's CPU per write (with spinners: what the polling costs). Only
// a quiet machine can answer: under load no CPU is idle anyway.
//
// `--stall DIR [SECONDS]`: does a durable write stall the CPUs? One spinning
// thread per CPU (pinned, nice 19) notes every gap in its loop longer than
// 200 us and whether its own CPU time advanced over the gap: if not, the
// guest ran something else there (preempted: contention); if it did, the
// vCPU itself did not run the loop although the guest counted the time as
// the spinner's (a stall in the hypervisor, or interrupt work on that CPU).
// Three phases of SECONDS (3) each: no disk writes, then one thread doing
// back-to-back pwritev2(RWF_DSYNC) of 4 KiB into a fallocate()d file, then
// two such threads.
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
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
    if (dsync < 0) {
      if (fdatasync(fd) != 0) perror("fdatasync");
    } else if (dsync) {
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
  rc |= ProbeFsync(dir, "flush only", n, 0, 1, -1);
  return rc;
}

enum { kParMaxWrites = 1 << 20 };
static const off_t kParRegion = (off_t)32 << 20;

struct ParShared {
  int fd;
  int bytes;
  double deadline;
  _Atomic long long next;  // contig: the next offset
  off_t limit;             // contig: where the prepared span ends
};

struct ParThread {
  struct ParShared* sh;
  int contig;
  off_t base;  // disjoint: this thread's range
  int n;
  double* us;
  double* cpu_us;  // the writing thread's CPU time per write
  double busy_from, busy_to;
};

static double ThreadCpuS(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void* ParWriter(void* arg) {
  struct ParThread* t = arg;
  struct ParShared* sh = t->sh;
  char rec[1 << 16];
  memset(rec, 'r', sizeof rec);
  off_t own = t->base;
  t->busy_from = NowS();
  while (t->n < kParMaxWrites) {
    off_t off;
    if (t->contig) {
      off = (off_t)atomic_fetch_add(&sh->next, sh->bytes);
      if (off + sh->bytes > sh->limit) break;
    } else {
      off = own;
      own += sh->bytes;
      if (own > t->base + kParRegion) break;
    }
    double s = NowS();
    if (s >= sh->deadline) break;
    double c = ThreadCpuS();
    struct iovec v = {rec, (size_t)sh->bytes};
    if (pwritev2(sh->fd, &v, 1, off, RWF_DSYNC) != sh->bytes) {
      perror("pwritev2");
      break;
    }
    t->cpu_us[t->n] = (ThreadCpuS() - c) * 1e6;
    t->us[t->n++] = (NowS() - s) * 1e6;
  }
  t->busy_to = NowS();
  return NULL;
}

// One run: `threads` writers for `seconds` on a fresh file (fallocate()d or
// zero-written and synced); prints writes/s and the per-write percentiles.
static int ParRun(const char* dir, int zeroed, int threads, int contig, double seconds, int bytes) {
  char path[4096];
  snprintf(path, sizeof path, "%s/vm_probe.par.%d", dir, (int)getpid());
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    perror(path);
    return 1;
  }
  const off_t span = kParRegion * 2;
  if (zeroed) {
    static char zeros[1 << 16];
    for (off_t off = 0; off < span; off += (off_t)sizeof zeros) {
      if (pwrite(fd, zeros, sizeof zeros, off) != (ssize_t)sizeof zeros) perror("pwrite zeros");
    }
  } else if (fallocate(fd, 0, 0, span) != 0) {
    perror("fallocate");
  }
  fsync(fd);
  struct ParShared sh = {.fd = fd, .bytes = bytes, .limit = span};
  atomic_store(&sh.next, 0);
  struct ParThread t[2];
  pthread_t th[2];
  sh.deadline = NowS() + seconds;
  for (int i = 0; i < threads; i++) {
    t[i] = (struct ParThread){.sh = &sh, .contig = contig, .base = (off_t)i * kParRegion};
    t[i].us = malloc(sizeof(double) * kParMaxWrites);
    t[i].cpu_us = malloc(sizeof(double) * kParMaxWrites);
    pthread_create(&th[i], NULL, ParWriter, &t[i]);
  }
  int n = 0;
  double from = 1e300, to = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    n += t[i].n;
    if (t[i].busy_from < from) from = t[i].busy_from;
    if (t[i].busy_to > to) to = t[i].busy_to;
  }
  double* all = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  double* cpu = malloc(sizeof(double) * (size_t)(n > 0 ? n : 1));
  int k = 0;
  for (int i = 0; i < threads; i++) {
    memcpy(all + k, t[i].us, sizeof(double) * (size_t)t[i].n);
    memcpy(cpu + k, t[i].cpu_us, sizeof(double) * (size_t)t[i].n);
    k += t[i].n;
    free(t[i].us);
    free(t[i].cpu_us);
  }
  qsort(all, (size_t)n, sizeof *all, CmpDouble);
  qsort(cpu, (size_t)n, sizeof *cpu, CmpDouble);
  printf(
      "%-6s %d thread%s %-8s %5d B: %6.0f durable writes/s  p50 %5.0f us  p90 %5.0f  p99 %5.0f  max %6.0f"
      "  | CPU/write p50 %3.0f p99 %4.0f max %5.0f us  (%d writes)\n",
      zeroed ? "zeroed" : "falloc", threads, threads > 1 ? "s" : " ",
      threads > 1 ? (contig ? "contig" : "disjoint") : "", bytes, n / (to - from), n ? Pct(all, n, 0.5) : 0,
      n ? Pct(all, n, 0.9) : 0, n ? Pct(all, n, 0.99) : 0, n ? all[n - 1] : 0, n ? Pct(cpu, n, 0.5) : 0,
      n ? Pct(cpu, n, 0.99) : 0, n ? cpu[n - 1] : 0, n);
  fflush(stdout);
  free(all);
  free(cpu);
  close(fd);
  unlink(path);
  return 0;
}

struct Spinner {
  int cpu;
  volatile int* stop;
  long gaps_preempted, gaps_stalled, stalled_1ms, stalled_5ms;
  double max_stalled_us, max_preempted_us, stalled_us_total;
};

static void* Spin(void* arg) {
  struct Spinner* sp = arg;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(sp->cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), 19);
  double last = NowS(), last_cpu = ThreadCpuS();
  while (!*sp->stop) {
    double now = NowS(), cpu = ThreadCpuS();
    double gap = (now - last) * 1e6;
    if (gap > 200) {
      double ran = (cpu - last_cpu) * 1e6;
      if (ran > gap * 0.8) {  // counted as running all along: not preempted by the guest
        sp->gaps_stalled++;
        sp->stalled_us_total += gap;
        if (gap > 1000) sp->stalled_1ms++;
        if (gap > 5000) sp->stalled_5ms++;
        if (gap > sp->max_stalled_us) sp->max_stalled_us = gap;
      } else {
        sp->gaps_preempted++;
        if (gap > sp->max_preempted_us) sp->max_preempted_us = gap;
      }
    }
    last = now;
    last_cpu = cpu;
  }
  return NULL;
}

static int StallProbe(const char* dir, double seconds) {
  const int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN) > 8 ? 8 : (int)sysconf(_SC_NPROCESSORS_ONLN);
  for (int writers = 0; writers <= 2; writers++) {
    volatile int stop = 0;
    struct Spinner sp[8];
    pthread_t th[8];
    for (int c = 0; c < cpus; c++) {
      sp[c] = (struct Spinner){.cpu = c, .stop = &stop};
      pthread_create(&th[c], NULL, Spin, &sp[c]);
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/vm_probe.stall.%d", dir, (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || fallocate(fd, 0, 0, kParRegion * 2) != 0) perror(path);
    fsync(fd);
    struct ParShared sh = {.fd = fd, .bytes = 4096, .limit = kParRegion * 2};
    atomic_store(&sh.next, 0);
    sh.deadline = NowS() + seconds;
    struct ParThread wt[2];
    pthread_t wth[2];
    for (int i = 0; i < writers; i++) {
      wt[i] = (struct ParThread){.sh = &sh, .contig = 1};
      wt[i].us = malloc(sizeof(double) * kParMaxWrites);
      wt[i].cpu_us = malloc(sizeof(double) * kParMaxWrites);
      pthread_create(&wth[i], NULL, ParWriter, &wt[i]);
    }
    int writes = 0;
    if (writers == 0) {
      struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
      nanosleep(&ts, NULL);
    }
    for (int i = 0; i < writers; i++) {
      pthread_join(wth[i], NULL);
      writes += wt[i].n;
      free(wt[i].us);
      free(wt[i].cpu_us);
    }
    stop = 1;
    for (int c = 0; c < cpus; c++) {
      pthread_join(th[c], NULL);
      printf(
          "%d writer%s (%5.0f durable writes/s) cpu%d: stalls >200us %5ld (>1ms %4ld, >5ms %3ld, max %6.0f us, %5.1f "
          "ms/s)"
          "  preempted %5ld (max %6.0f us)\n",
          writers, writers == 1 ? " " : "s", writes / seconds, c, sp[c].gaps_stalled, sp[c].stalled_1ms,
          sp[c].stalled_5ms, sp[c].max_stalled_us, sp[c].stalled_us_total / 1e3 / seconds, sp[c].gaps_preempted,
          sp[c].max_preempted_us);
    }
    fflush(stdout);
    close(fd);
    unlink(path);
  }
  return 0;
}

static int FsyncParallel(const char* dir, double seconds, int bytes, int rounds) {
  if (bytes < 1 || bytes > (1 << 16)) bytes = 100;
  int rc = 0;
  for (int r = 0; r < rounds; r++) {
    for (int zeroed = 0; zeroed <= 1; zeroed++) {
      rc |= ParRun(dir, zeroed, 1, 0, seconds, bytes);
      rc |= ParRun(dir, zeroed, 2, 1, seconds, bytes);
      rc |= ParRun(dir, zeroed, 2, 0, seconds, bytes);
    }
  }
  return rc;
}

// --fsync-idle: SCHED_IDLE spinners, one pinned to each CPU.
static atomic_int idle_spin_stop;
static void* IdleSpinner(void* arg) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET((int)(intptr_t)arg, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
  struct sched_param sp = {0};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
  while (!atomic_load_explicit(&idle_spin_stop, memory_order_relaxed)) __builtin_ia32_pause();
  return NULL;
}

static void* IdlePong(void* arg) {
  uint64_t v;
  for (intptr_t i = 0; i < (intptr_t)arg; i++) {
    if (read(ping_fd, &v, sizeof v) != sizeof v || write(pong_fd, &v, sizeof v) != sizeof v) break;
  }
  return NULL;
}

static double ProcessCpuUs(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return (double)t.tv_sec * 1e6 + (double)t.tv_nsec * 1e-3;
}

enum { kIdleKinds = 5 };
static const char* const kIdleNames[kIdleKinds] = {"buffered", "direct", "buffered+poll", "eventfd", "eventfd+poll"};

static int FsyncIdle(const char* dir, int n, int rounds) {
  const int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
  const size_t span = (size_t)n * 100 + 8192;
  double* us[kIdleKinds];
  double cpu[kIdleKinds] = {0};
  int cnt[kIdleKinds] = {0};
  for (int k = 0; k < kIdleKinds; k++) us[k] = malloc(sizeof(double) * (size_t)n * (size_t)rounds);
  char* zeros = calloc(1, span);
  char* block = NULL;
  if (posix_memalign((void**)&block, 4096, span) != 0) return 1;
  char rec[100];
  memset(rec, 'r', sizeof rec);
  char path[4096];
  snprintf(path, sizeof path, "%s/vm_probe.idle.%d", dir, (int)getpid());
  for (int r = 0; r < rounds; r++) {
    for (int j = 0; j < kIdleKinds; j++) {
      const int k = (r % 2) ? kIdleKinds - 1 - j : j;
      const int poll = k == 2 || k == 4, ping = k >= 3;
      pthread_t spinners[256];
      const int nspin = poll ? (cpus < 256 ? cpus : 256) : 0;
      atomic_store(&idle_spin_stop, 0);
      for (int c = 0; c < nspin; c++) pthread_create(&spinners[c], NULL, IdleSpinner, (void*)(intptr_t)c);
      int fd = -1, dfd = -1;
      pthread_t pong;
      if (ping) {
        ping_fd = eventfd(0, 0);
        pong_fd = eventfd(0, 0);
        pthread_create(&pong, NULL, IdlePong, (void*)(intptr_t)n);
      } else {
        fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || pwrite(fd, zeros, span, 0) != (ssize_t)span || fsync(fd) != 0) perror(path);
        if (k == 1 && (dfd = open(path, O_RDWR | O_DIRECT | O_CLOEXEC)) < 0) perror("O_DIRECT");
        memset(block, 0, span);
      }
      usleep(20000);  // spinners placed, the writer idle before its first write
      const double c0 = ProcessCpuUs();
      for (int i = 0; i < n; i++) {
        const off_t off = (off_t)i * (off_t)sizeof rec;
        uint64_t v = 1;
        const double t = NowS();
        if (ping) {
          if (write(ping_fd, &v, sizeof v) != sizeof v || read(pong_fd, &v, sizeof v) != sizeof v) perror("eventfd");
        } else if (k == 1) {
          memcpy(block + off, rec, sizeof rec);
          const off_t a = off & ~(off_t)511, e = (off + (off_t)sizeof rec + 511) & ~(off_t)511;
          struct iovec io = {block + a, (size_t)(e - a)};
          if (pwritev2(dfd, &io, 1, a, RWF_DSYNC) != e - a) perror("pwritev2 O_DIRECT");
        } else {
          struct iovec io = {rec, sizeof rec};
          if (pwritev2(fd, &io, 1, off, RWF_DSYNC) != (ssize_t)sizeof rec) perror("pwritev2");
        }
        us[k][cnt[k]++] = (NowS() - t) * 1e6;
        if (ping) usleep(100);  // the pong thread's CPU goes idle between round trips, as a server's would
      }
      cpu[k] += ProcessCpuUs() - c0;
      atomic_store(&idle_spin_stop, 1);
      for (int c = 0; c < nspin; c++) pthread_join(spinners[c], NULL);
      if (ping) {
        pthread_join(pong, NULL);
        close(ping_fd);
        close(pong_fd);
      } else {
        if (dfd >= 0) close(dfd);
        close(fd);
        unlink(path);
      }
    }
  }
  for (int k = 0; k < kIdleKinds; k++) {
    qsort(us[k], (size_t)cnt[k], sizeof(double), CmpDouble);
    printf("%-14s p10 %6.0f us  p50 %6.0f  p90 %6.0f  p99 %6.0f  process CPU per op %6.1f us  (%d)\n", kIdleNames[k],
           Pct(us[k], cnt[k], 0.1), Pct(us[k], cnt[k], 0.5), Pct(us[k], cnt[k], 0.9), Pct(us[k], cnt[k], 0.99),
           cpu[k] / cnt[k], cnt[k]);
    free(us[k]);
  }
  free(zeros);
  free(block);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && strcmp(argv[1], "--stall") == 0) return StallProbe(argv[2], argc >= 4 ? atof(argv[3]) : 3.0);
  if (argc >= 3 && strcmp(argv[1], "--fsync-par") == 0) {
    return FsyncParallel(argv[2], argc >= 4 ? atof(argv[3]) : 2.0, argc >= 5 ? atoi(argv[4]) : 100,
                         argc >= 6 ? atoi(argv[5]) : 3);
  }
  if (argc >= 3 && strcmp(argv[1], "--fsync-idle") == 0) {
    return FsyncIdle(argv[2], argc >= 4 ? atoi(argv[3]) : 300, argc >= 5 ? atoi(argv[4]) : 6);
  }
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
