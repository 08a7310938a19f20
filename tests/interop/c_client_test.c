/* Interop check with the libzookeeper-mt C client, mostly through its ASYNC
 * API: acreate (plain + sequential), aget, aset (CAS), awexists with a watcher,
 * aget_children2, adelete, amulti (success and rollback), async (sync), plus
 * one synchronous call. Usage: c_client_test host:port. Exit 0 on success;
 * otherwise prints every failed check. Bounded by alarm(60) and 10 s waits. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int failures = 0;
static int connected = 0;

/* One pending async call: filled by its completion. */
struct slot {
  int done;
  int rc;
  char str[512];
  char data[512];
  int data_len;
  struct Stat stat;
  int nchildren;
  char children[8][64];
};

/* A watch registration: records the first event delivered. */
struct watch_rec {
  int fired;
  int type;
  char path[512];
};

#define CHECK(cond, ...)                                     \
  do {                                                       \
    if (!(cond)) {                                           \
      fprintf(stderr, "FAILED %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                          \
      fprintf(stderr, "\n");                                 \
      failures++;                                            \
    }                                                        \
  } while (0)

static void finish(struct slot* s, int rc) {
  pthread_mutex_lock(&mu);
  s->rc = rc;
  s->done = 1;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

/* Waits for *flag to become non-zero; returns 0 on timeout. */
static int wait_flag(int* flag, int seconds) {
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += seconds;
  pthread_mutex_lock(&mu);
  while (!*flag) {
    if (pthread_cond_timedwait(&cv, &mu, &dl) != 0) break;
  }
  int ok = *flag;
  pthread_mutex_unlock(&mu);
  return ok;
}

static int wait_slot(struct slot* s) {
  if (!wait_flag(&s->done, 10)) {
    fprintf(stderr, "FAILED: completion timed out\n");
    failures++;
    return -9999;
  }
  return s->rc;
}

static void session_watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  (void)zh;
  (void)path;
  (void)ctx;
  if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) {
    pthread_mutex_lock(&mu);
    connected = 1;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
  }
}

static void node_watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  (void)zh;
  (void)state;
  struct watch_rec* w = ctx;
  pthread_mutex_lock(&mu);
  if (!w->fired) {
    w->type = type;
    snprintf(w->path, sizeof w->path, "%s", path ? path : "");
    w->fired = 1;
  }
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void string_cb(int rc, const char* value, const void* data) {
  struct slot* s = (struct slot*)data;
  if (rc == ZOK && value) snprintf(s->str, sizeof s->str, "%s", value);
  finish(s, rc);
}

static void stat_cb(int rc, const struct Stat* stat, const void* data) {
  struct slot* s = (struct slot*)data;
  if (rc == ZOK && stat) s->stat = *stat;
  finish(s, rc);
}

static void data_cb(int rc, const char* value, int len, const struct Stat* stat, const void* data) {
  struct slot* s = (struct slot*)data;
  if (rc == ZOK) {
    s->data_len = len;
    if (value && len > 0) memcpy(s->data, value, len < 511 ? len : 511);
    if (stat) s->stat = *stat;
  }
  finish(s, rc);
}

static void children_cb(int rc, const struct String_vector* v, const struct Stat* stat, const void* data) {
  struct slot* s = (struct slot*)data;
  if (rc == ZOK) {
    s->nchildren = v ? v->count : 0;
    for (int i = 0; v && i < v->count && i < 8; i++) snprintf(s->children[i], sizeof s->children[i], "%s", v->data[i]);
    if (stat) s->stat = *stat;
  }
  finish(s, rc);
}

static void void_cb(int rc, const void* data) { finish((struct slot*)data, rc); }

static int acreate(zhandle_t* zh, const char* path, const char* val, int flags, char* out) {
  struct slot s = {0};
  int rc = zoo_acreate(zh, path, val, val ? (int)strlen(val) : -1, &ZOO_OPEN_ACL_UNSAFE, flags, string_cb, &s);
  if (rc != ZOK) return rc;
  rc = wait_slot(&s);
  if (out) strcpy(out, s.str);
  return rc;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s host:port\n", argv[0]);
    return 2;
  }
  alarm(60);
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  zhandle_t* zh = zookeeper_init(argv[1], session_watcher, 10000, 0, NULL, 0);
  if (!zh || !wait_flag(&connected, 15)) {
    fprintf(stderr, "FAILED: could not connect to %s\n", argv[1]);
    return 1;
  }

  char base[64], p[512], out[512];
  snprintf(base, sizeof base, "/ctest_%d_%ld", (int)getpid(), (long)time(NULL));

  /* acreate: plain and sequential */
  CHECK(acreate(zh, base, "root", 0, out) == ZOK && strcmp(out, base) == 0, "create %s -> %s", base, out);
  snprintf(p, sizeof p, "%s/seq-", base);
  CHECK(acreate(zh, p, "s", ZOO_SEQUENCE, out) == ZOK, "create sequential");
  snprintf(p, sizeof p, "%s/seq-0000000000", base);
  CHECK(strcmp(out, p) == 0, "sequential name %s, expected %s", out, p);
  CHECK(acreate(zh, base, "dup", 0, NULL) == ZNODEEXISTS, "duplicate create must be ZNODEEXISTS");

  /* awexists with a watcher, then create fires NodeCreated */
  struct watch_rec w = {0};
  struct slot s1 = {0};
  snprintf(p, sizeof p, "%s/w", base);
  CHECK(zoo_awexists(zh, p, node_watcher, &w, stat_cb, &s1) == ZOK, "awexists submit");
  CHECK(wait_slot(&s1) == ZNONODE, "awexists on missing node rc=%d", s1.rc);
  CHECK(acreate(zh, p, "w", ZOO_EPHEMERAL, NULL) == ZOK, "create watched node");
  CHECK(wait_flag(&w.fired, 10), "exists watch did not fire");
  CHECK(w.type == ZOO_CREATED_EVENT && strcmp(w.path, p) == 0, "watch event type %d path %s", w.type, w.path);

  /* aget */
  struct slot s2 = {0};
  CHECK(zoo_aget(zh, base, 0, data_cb, &s2) == ZOK, "aget submit");
  CHECK(wait_slot(&s2) == ZOK, "aget rc=%d", s2.rc);
  CHECK(s2.data_len == 4 && memcmp(s2.data, "root", 4) == 0, "aget data");
  CHECK(s2.stat.version == 0 && s2.stat.numChildren == 2 && s2.stat.dataLength == 4,
        "aget stat version=%d numChildren=%d", s2.stat.version, s2.stat.numChildren);

  /* aset: CAS success then ZBADVERSION */
  struct slot s3 = {0}, s4 = {0};
  CHECK(zoo_aset(zh, base, "v2", 2, 0, stat_cb, &s3) == ZOK, "aset submit");
  CHECK(wait_slot(&s3) == ZOK && s3.stat.version == 1, "aset rc=%d version=%d", s3.rc, s3.stat.version);
  CHECK(zoo_aset(zh, base, "v3", 2, 0, stat_cb, &s4) == ZOK, "aset submit 2");
  CHECK(wait_slot(&s4) == ZBADVERSION, "stale aset rc=%d", s4.rc);

  /* aget_children2 */
  struct slot s5 = {0};
  CHECK(zoo_aget_children2(zh, base, 0, children_cb, &s5) == ZOK, "aget_children2 submit");
  CHECK(wait_slot(&s5) == ZOK && s5.nchildren == 2, "children rc=%d n=%d", s5.rc, s5.nchildren);
  CHECK(s5.stat.numChildren == 2 && s5.stat.cversion == 2, "children stat n=%d cversion=%d", s5.stat.numChildren,
        s5.stat.cversion);

  /* amulti: failure rolls back */
  char m1[512], missing[512], buf1[512];
  snprintf(m1, sizeof m1, "%s/m1", base);
  snprintf(missing, sizeof missing, "%s/missing", base);
  zoo_op_t ops[3];
  zoo_op_result_t res[3];
  struct Stat st;
  memset(res, 0, sizeof res);
  zoo_create_op_init(&ops[0], m1, "m", 1, &ZOO_OPEN_ACL_UNSAFE, 0, buf1, sizeof buf1);
  zoo_set_op_init(&ops[1], base, "v4", 2, 1, &st);
  zoo_delete_op_init(&ops[2], missing, -1);
  struct slot s6 = {0};
  CHECK(zoo_amulti(zh, 3, ops, res, void_cb, &s6) == ZOK, "amulti submit");
  CHECK(wait_slot(&s6) == ZNONODE, "failing multi rc=%d", s6.rc);
  CHECK(res[0].err == ZOK && res[1].err == ZOK && res[2].err == ZNONODE, "multi results %d %d %d", res[0].err,
        res[1].err, res[2].err);
  /* amulti: success */
  zoo_op_t ops2[2];
  zoo_op_result_t res2[2];
  struct Stat st2;
  memset(res2, 0, sizeof res2);
  zoo_create_op_init(&ops2[0], m1, "m", 1, &ZOO_OPEN_ACL_UNSAFE, 0, buf1, sizeof buf1);
  zoo_set_op_init(&ops2[1], base, "v4", 2, 1, &st2);
  struct slot s7 = {0};
  CHECK(zoo_amulti(zh, 2, ops2, res2, void_cb, &s7) == ZOK, "amulti submit 2");
  CHECK(wait_slot(&s7) == ZOK, "multi rc=%d", s7.rc);
  CHECK(res2[0].err == ZOK && strcmp(buf1, m1) == 0, "multi create %s", buf1);
  CHECK(res2[1].err == ZOK && st2.version == 2, "multi set version %d", st2.version);

  /* zoo_async (sync) */
  struct slot s8 = {0};
  CHECK(zoo_async(zh, base, string_cb, &s8) == ZOK, "async submit");
  CHECK(wait_slot(&s8) == ZOK && strcmp(s8.str, base) == 0, "sync rc=%d path=%s", s8.rc, s8.str);

  /* adelete */
  struct slot s9 = {0}, s10 = {0};
  CHECK(zoo_adelete(zh, base, -1, void_cb, &s9) == ZOK, "adelete submit");
  CHECK(wait_slot(&s9) == ZNOTEMPTY, "delete non-empty rc=%d", s9.rc);
  snprintf(p, sizeof p, "%s/w", base);
  CHECK(zoo_adelete(zh, p, 5, void_cb, &s10) == ZOK, "adelete submit 2");
  CHECK(wait_slot(&s10) == ZBADVERSION, "delete bad version rc=%d", s10.rc);

  /* one synchronous call */
  struct Stat sst;
  CHECK(zoo_exists(zh, m1, 0, &sst) == ZOK && sst.dataLength == 1, "sync exists");
  CHECK(zoo_exists(zh, missing, 0, &sst) == ZNONODE, "sync exists missing");

  /* cleanup */
  const char* kids[] = {"w", "m1", "seq-0000000000"};
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s/%s", base, kids[i]);
    CHECK(zoo_delete(zh, p, -1) == ZOK, "cleanup %s", p);
  }
  CHECK(zoo_delete(zh, base, -1) == ZOK, "cleanup %s", base);
  zookeeper_close(zh);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("c_client_test: all checks passed\n");
  return 0;
}
