// Idle sessions: `threads` IdleGroups (idle_group.h) open `clients`
// sessions in parallel (non-blocking connects and handshakes, at most
// kWindow in flight over all threads, failed attempts retried), and the
// time until all are established is reported. Then one JSON line
// {"event": "sessions_ready", ...} goes to stdout and the sessions are held:
// no requests, only pings, for `hold` seconds or (hold < 0) until stdin
// reaches EOF; then every group closes its sessions with closeSession.
// RLIMIT_NOFILE is raised to its hard limit first.
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "idle_group.h"
#include "load.h"

namespace aviary::bench {

namespace {

constexpr int kWindow = 256;

// Raises the soft open-file limit to the hard one; false (with *error) when
// even that cannot hold `clients` connections.
bool RaiseFileLimit(int clients, std::string* error) {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return true;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < static_cast<rlim_t>(clients) + 32) {
    *error = "the open-file limit (" + std::to_string(rl.rlim_cur) + ") is too low for " + std::to_string(clients) +
             " sessions";
    return false;
  }
  return true;
}

// Until stdin reaches EOF (hold < 0) or for `hold_s` seconds.
void HoldIdle(double hold_s) {
  if (hold_s >= 0) {
    std::this_thread::sleep_for(std::chrono::duration<double>(hold_s));
    return;
  }
  char buf[4096];
  for (;;) {
    pollfd p{STDIN_FILENO, POLLIN, 0};
    if (poll(&p, 1, 1000) <= 0) continue;
    ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) return;
  }
}

void WaitOpened(const std::vector<std::unique_ptr<IdleGroup>>& groups) {
  while (!std::all_of(groups.begin(), groups.end(), [](auto& g) { return g->opened(); })) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

bool RunSessions(const Options& o, const std::vector<Endpoint>& servers, Progress* progress, RunResult* out,
                 std::string* error) {
  if (!RaiseFileLimit(o.clients, error)) return false;
  std::vector<SockAddr> addrs(servers.size());
  for (size_t i = 0; i < servers.size(); i++) {
    if (!Resolve(servers[i], &addrs[i], error)) return false;
  }
  int threads = std::min(o.threads, o.clients);
  std::vector<std::vector<int>> shares(static_cast<size_t>(threads));
  for (int i = 0; i < o.clients; i++) shares[static_cast<size_t>(i % threads)].push_back(i);
  std::vector<std::unique_ptr<IdleGroup>> groups;
  for (auto& share : shares) {
    groups.push_back(std::make_unique<IdleGroup>(o, addrs, std::move(share), std::max(1, kWindow / threads), progress));
  }
  double cpu0 = CpuSeconds();
  int64_t start = NowNs();
  // Generous: a loaded server may take tens of seconds for 19,000 handshakes.
  int64_t open_deadline = start + 60'000'000'000 + int64_t{o.clients} * 10'000'000;
  std::atomic<bool> stop{false};
  std::vector<std::thread> ts;
  for (auto& g : groups) ts.emplace_back([&g, open_deadline, &stop] { g->Run(open_deadline, stop); });
  {
    ProgressPrinter printer(progress, "sessions");
    WaitOpened(groups);
  }
  int64_t established = 0, last_up = start;
  for (auto& g : groups) {
    established += g->established();
    last_up = std::max(last_up, g->last_up_ns());
  }
  out->connect_s = static_cast<double>(last_up - start) / 1e9;
  bool ok = established == o.clients;
  if (ok) {
    std::printf("{\"event\": \"sessions_ready\", \"sessions\": %lld, \"connect_s\": %.3f, \"pid\": %d}\n",
                static_cast<long long>(established), out->connect_s, static_cast<int>(getpid()));
    std::fflush(stdout);
    HoldIdle(o.hold_s);
  }
  stop.store(true);
  for (auto& t : ts) t.join();
  Stats all;
  for (auto& g : groups) {
    all.Merge(g->stats());
    out->retries += g->retries();
    if (!ok && error->empty()) *error = g->error();
  }
  out->latency.Merge(all.latency);
  out->lost_connections = all.lost;
  out->bad_replies = all.bad;
  out->sessions = established;
  out->ops = established;
  out->elapsed_s = out->connect_s;
  out->ops_per_sec = static_cast<double>(established) / std::max(out->connect_s, 1e-9);
  out->client_cpu_s = CpuSeconds() - cpu0;
  if (!ok && error->empty()) *error = "only " + std::to_string(established) + " sessions established";
  return ok;
}

}  // namespace aviary::bench
