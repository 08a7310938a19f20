/* The libzookeeper-mt C client in read-only mode (ZOO_READONLY: canBeReadOnly
 * in its ConnectRequest). Usage: c_read_only_client host:port path.
 * Connects, waits (10 s at most) for the session, then prints one line each:
 *   state ro|rw        ZOO_READONLY_STATE or ZOO_CONNECTED_STATE
 *   get <rc> <data>    zoo_get(path)
 *   create <rc>        zoo_create(path + "/c")
 *   sync <rc>          zoo_async(path), awaited
 * and exits 0; exit 1 if no session came. Bounded by alarm(30). */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int session_state = 0; /* the last of ZOO_CONNECTED_STATE / ZOO_READONLY_STATE seen */
static int sync_rc = 1;       /* 1 until the sync completes */

static void watcher(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  if (type != ZOO_SESSION_EVENT) return;
  if (state != ZOO_CONNECTED_STATE && state != ZOO_READONLY_STATE) return;
  pthread_mutex_lock(&mu);
  session_state = state;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

static void synced(int rc, const char* value, const void* data) {
  pthread_mutex_lock(&mu);
  sync_rc = rc;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

/* Waits until *v != unset; returns 0 on timeout. */
static int wait_for(int* v, int unset, int seconds) {
  struct timespec dl;
  clock_gettime(CLOCK_REALTIME, &dl);
  dl.tv_sec += seconds;
  pthread_mutex_lock(&mu);
  while (*v == unset) {
    if (pthread_cond_timedwait(&cv, &mu, &dl) != 0) break;
  }
  int ok = *v != unset;
  pthread_mutex_unlock(&mu);
  return ok;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s host:port path\n", argv[0]);
    return 2;
  }
  alarm(30);
  zoo_set_debug_level(ZOO_LOG_LEVEL_WARN);
  zhandle_t* zh = zookeeper_init(argv[1], watcher, 8000, 0, NULL, ZOO_READONLY);
  if (zh == NULL || !wait_for(&session_state, 0, 10)) {
    printf("state none\n");
    return 1;
  }
  printf("state %s\n", session_state == ZOO_READONLY_STATE ? "ro" : "rw");
  char data[256];
  int len = sizeof(data) - 1;
  int rc = zoo_get(zh, argv[2], 0, data, &len, NULL);
  data[rc == ZOK && len >= 0 ? len : 0] = '\0';
  printf("get %d %s\n", rc, data);
  char child[512];
  snprintf(child, sizeof(child), "%s/c", argv[2]);
  printf("create %d\n", zoo_create(zh, child, "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0));
  rc = zoo_async(zh, argv[2], synced, NULL);
  if (rc == ZOK && wait_for(&sync_rc, 1, 10)) rc = sync_rc;
  printf("sync %d\n", rc);
  fflush(stdout);
  zookeeper_close(zh);
  return 0;
}
