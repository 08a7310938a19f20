#include "server/server.h"

#include <pthread.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "admin/four_letter.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/thread_slice.h"
#include "proto/codec.h"
#include "server/core_state.h"
#include "server/ensemble_conf.h"
#include "server/heap_release.h"
#include "server/latency_trace.h"
#include "storage/epoch_file.h"
#include "storage/limits.h"
#include "storage/recovery.h"

namespace aviary::server {

namespace {
// An integer from the environment (AVIARY_* tuning overrides), or `fallback`
// when the variable is unset or empty.
int64_t EnvInt(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::strtoll(v, nullptr, 10) : fallback;
}

// One descriptor per client connection: the soft open-file limit is raised
// to the hard one (as the JVM does for ZooKeeper), so that sessions up to
// the hard limit can connect.
void RaiseOpenFileLimit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max) return;
  const rlim_t was = rl.rlim_cur;
  rl.rlim_cur = rl.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &rl) == 0) {
    AV_LOG(kInfo, "open-file limit raised from {} to {}", was, rl.rlim_max);
  }
}

// Events of one read pass whose storage an I/O thread keeps for the next.
constexpr size_t kKeepEvents = 256;
// Recycled path strings an I/O thread holds at most (Server::OnFrames).
constexpr size_t kKeepSparePaths = 256;

// CLOCK_REALTIME in ns: the clock of the kernel's receive timestamps.
int64_t RealNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

const base::Clock& ClockOf(const ServerOptions& o) {
  return o.core.clock != nullptr ? *o.core.clock : base::SystemClock::Get();
}
}  // namespace

Server::Server(ServerOptions options) : opts_(std::move(options)) {
  opts_.net.max_frame_bytes = opts_.core.max_buffer;
  opts_.core.max_output_bytes = opts_.net.max_output_bytes;
  storage::WalOptions wal;
  wal.dir = opts_.data_log_dir.empty() ? opts_.data_dir : opts_.data_log_dir;
  wal.force_sync = opts_.force_sync;
  wal.prealloc_bytes = opts_.prealloc_bytes;
  wal.max_record_bytes = storage::MaxTxnBytes(opts_.core.max_buffer);
  if (opts_.quorum && !opts_.data_dir.empty()) {
    QuorumPeerOptions qo;
    qo.quorum = *opts_.quorum;
    qo.data_dir = opts_.data_dir;
    qo.wal = wal;
    qo.sasl = opts_.quorum_sasl;
    auto peer = std::make_unique<QuorumPeer>(std::move(qo));
    quorum_peer_ = peer.get();
    committer_ = std::move(peer);
  } else if (opts_.data_dir.empty()) {
    committer_ = std::make_unique<LocalCommitter>();
  } else {
    // Standalone only: an ensemble member's DIFF size rule reads the closed
    // segments' sizes right after the roll (quorum_peer_stream.cc), which
    // a deferred trim would still show preallocated.
    wal.background_roll = EnvInt("AVIARY_WAL_BACKGROUND_ROLL", opts_.wal_background_roll) != 0;
    wal.zero_fill_bytes = std::max<int64_t>(0, EnvInt("AVIARY_WAL_ZERO_FILL_BYTES", opts_.wal_zero_fill_bytes));
    wal.zero_ahead_bytes = std::max<int64_t>(0, EnvInt("AVIARY_WAL_ZERO_AHEAD_KIB", opts_.wal_zero_ahead_bytes >> 10))
                           << 10;
    // The next segment's head, zeroed ahead of the roll (0: off; for A/B runs).
    wal.next_head_bytes = std::max<int64_t>(0, EnvInt("AVIARY_WAL_NEXT_HEAD_KIB", wal.next_head_bytes >> 10)) << 10;
    const bool apply_inline = EnvInt("AVIARY_APPLY_COMMITS_INLINE", opts_.apply_commits_inline) != 0;
    auto durable = std::make_unique<DurableCommitter>(wal, [this, apply_inline] {
      if (!apply_inline || !core_->ApplyCommitsInline()) core_->WakeForCommits();
    });
    durable->set_max_groups_in_flight(
        static_cast<int>(EnvInt("AVIARY_WAL_GROUPS_IN_FLIGHT", opts_.wal_groups_in_flight)));
    durable->set_min_overlapped_group(static_cast<size_t>(
        std::max<int64_t>(1, EnvInt("AVIARY_WAL_MIN_OVERLAPPED_GROUP", opts_.wal_min_overlapped_group))));
    durable->set_group_linger_us(EnvInt("AVIARY_WAL_GROUP_LINGER_US", opts_.wal_group_linger_us));
    durable->set_overlap_after_us(EnvInt("AVIARY_WAL_OVERLAP_AFTER_US", opts_.wal_overlap_after_us));
    durable_ = durable.get();
    committer_ = std::move(durable);
  }
  // Reply slices stay opt-in: on the quiet machine they cost set 16 x 16
  // throughput (docs/perf/pipeline.md, session 14 "cycle"); the core's own
  // default (1) keeps every core unit test running with them.
  opts_.core.reply_slice = static_cast<int32_t>(std::clamp<int64_t>(EnvInt("AVIARY_CORE_REPLY_SLICE", 0), 0, 1 << 20));
  opts_.core.prefetch_stats = EnvInt("AVIARY_PREFETCH", opts_.core.prefetch_stats ? 1 : 0) != 0;
  opts_.core.spin_us = std::clamp<int64_t>(EnvInt("AVIARY_CORE_SPIN_US", opts_.core.spin_us), 0, 10000);
  {
    // Thread placement (server/thread_placement.h): the core and I/O
    // threads register as they start.
    placement::PlacementOptions po;
    po.mode = opts_.thread_placement;
    const char* mode = std::getenv("AVIARY_THREAD_PLACEMENT");
    if (mode != nullptr && *mode != '\0' && !placement::ParseMode(mode, &po.mode)) {
      AV_LOG(kWarn, "AVIARY_THREAD_PLACEMENT={}: expected auto, off or confine; ignored", mode);
    }
    po.log_dir = opts_.data_dir.empty() ? std::string() : wal.dir;
    placement::ControllerOptions& c = po.controller;
    auto pct = [](const char* name, int v) {
      return static_cast<int>(std::clamp<int64_t>(EnvInt(name, v), 0, 100000));
    };
    c.confine_below_need_pct = pct("AVIARY_PLACEMENT_CONFINE_BELOW_NEED_PCT", c.confine_below_need_pct);
    c.confine_below_wait_pct = pct("AVIARY_PLACEMENT_CONFINE_BELOW_WAIT_PCT", c.confine_below_wait_pct);
    c.release_above_need_pct = pct("AVIARY_PLACEMENT_RELEASE_ABOVE_NEED_PCT", c.release_above_need_pct);
    c.release_above_wait_pct = pct("AVIARY_PLACEMENT_RELEASE_ABOVE_WAIT_PCT", c.release_above_wait_pct);
    c.confine_below_pct = pct("AVIARY_PLACEMENT_CONFINE_BELOW_PCT", c.confine_below_pct);
    c.release_above_pct = pct("AVIARY_PLACEMENT_RELEASE_ABOVE_PCT", c.release_above_pct);
    c.confine_window_ms = EnvInt("AVIARY_PLACEMENT_CONFINE_WINDOW_MS", c.confine_window_ms);
    c.release_window_ms = EnvInt("AVIARY_PLACEMENT_RELEASE_WINDOW_MS", c.release_window_ms);
    c.min_disk_ios_per_s = EnvInt("AVIARY_PLACEMENT_MIN_DISK_IOS", c.min_disk_ios_per_s);
    po.sample_ms = std::max<int64_t>(10, EnvInt("AVIARY_PLACEMENT_SAMPLE_MS", po.sample_ms));
    placement_ = std::make_unique<placement::ThreadPlacement>(std::move(po));
    placement::ThreadPlacement* p = placement_.get();
    opts_.net.on_io_thread_start = [p] { p->AddCurrentThread(); };
  }
  const int64_t queue_kib = EnvInt("AVIARY_SNAPSHOT_QUEUE_KIB", 0);
  if (queue_kib > 0) opts_.core.snapshot_max_queued_bytes = static_cast<size_t>(queue_kib) << 10;
  core_ = std::make_unique<Core>(opts_.core, committer_.get(), this);
  if (quorum_peer_ != nullptr) {
    QuorumPeer* qp = quorum_peer_;
    core_->SetStatusHook([qp](admin::ServerSnapshot& s) { qp->FillStatus(s); });
    core_->SetEnsembleHooks(qp, [qp](std::vector<std::pair<int64_t, int32_t>> t) { qp->QueueTouches(std::move(t)); });
    core_->SetEnsembleConf(MakeEnsembleConf(*opts_.quorum));      // conf's quorum part
    core_->AddStatResetHook([qp] { qp->ResetProposalSizes(); });  // srst on a leader
  }
  core_->InstallDigestLog(nullptr);  // hash; an ensemble member's QuorumPeer::Start installs its checker
  if (opts_.global_outstanding_limit > 0) {
    Core* core = core_.get();
    int64_t limit = opts_.global_outstanding_limit;
    opts_.net.throttled = [core, limit] { return core->Backlog() > limit; };
  }
  opts_.net.direct_send_max = static_cast<int>(EnvInt("AVIARY_DIRECT_SEND_MAX", opts_.net.direct_send_max));
  // AVIARY_LATENCY_TRACE: receive timestamps for the I/O threads' io_wait.
  if (trace::Requested()) opts_.net.rx_timestamps = true;
  net_ = std::make_unique<net::ConnectionServer>(opts_.net, this,
                                                 [](std::string_view w) { return admin::IsFourLetterWord(w); });
  if (durable_ != nullptr && EnvInt("AVIARY_EARLY_REPLIES", opts_.early_replies ? 1 : 0) != 0) {
    net::ConnectionServer* net = net_.get();  // outlives the committer's threads (Stop)
    durable_->set_early_reply_sink(
        [net](std::vector<net::ConnectionServer::Out>& batch) { net->SendBatch(batch, true); });
  }
}

Server::~Server() { Stop(); }

bool Server::Recover(std::string* error) {
  storage::RecoveryOptions ro;
  ro.snap_dir = opts_.data_dir;
  ro.log_dir = opts_.data_log_dir.empty() ? opts_.data_dir : opts_.data_log_dir;
  ro.repair = opts_.repair;
  ro.progress = [](std::string_view line) { AV_LOG(kInfo, "recovery: {}", line); };
  auto start = ClockOf(opts_).SteadyMs();
  storage::RecoveryResult r = storage::Recover(ro, &core_->mutable_state());
  if (!r.ok) {
    const bool hint = !opts_.repair && r.orphan_owners.empty();  // the orphan error carries its own
    *error = r.error + (hint ? " (start with --repair to skip the corrupt part, losing what follows it)" : "");
    return false;
  }
  AV_LOG(kInfo, "recovered {} nodes from {} and {} log txns in {} ms; last zxid {:#x}, {} sessions", r.nodes_loaded,
         r.snapshot_zxid < 0 ? std::string("no snapshot") : fmt::format("snapshot {:#x}", r.snapshot_zxid),
         r.txns_replayed, ClockOf(opts_).SteadyMs() - start, r.last_zxid, r.sessions.size());
  core_->LoadRecovered(r.last_zxid, r.sessions, ClockOf(opts_).SteadyMs());
  NoteRecoveryMetrics(r, ClockOf(opts_).SteadyMs() - start);
  ReleaseFreeHeap();  // recovery's batches and buffers (restart RSS, issue 10)
  if (quorum_peer_ != nullptr) {
    storage::Epochs epochs;
    if (!storage::LoadEpochs(opts_.data_dir, r.last_zxid, &epochs, error)) return false;
    for (const std::string& note : epochs.notes) AV_LOG(kInfo, "epochs: {}", note);
    quorum_peer_->SetRecovered(r.last_zxid, r.snapshot_zxid, epochs.accepted, epochs.current);
  } else if (!durable_->Start(r.last_zxid + 1, error)) {
    return false;
  }
  snapshotter_ = std::make_unique<Snapshotter>(ro.snap_dir, ro.log_dir, opts_.snap_retain_count,
                                               opts_.snapshot_timeout_ms, opts_.snapshot_io);
  core_->SetSnapshotter(snapshotter_.get());
  // An ensemble member snapshots committed state only: what recovery
  // replayed from the log may not be committed yet.
  if (quorum_peer_ == nullptr) core_->RequestSnapshot();
  return true;
}

bool Server::Start(std::string* error) {
  if ((durable_ != nullptr || quorum_peer_ != nullptr) && !Recover(error)) return false;
  if (quorum_peer_ != nullptr && !quorum_peer_->Start(core_.get(), error)) return false;
  RaiseOpenFileLimit();
  trace::Start();  // AVIARY_LATENCY_TRACE (off by default)
  if (!net_->Start(error)) return false;
  core_thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "av-core");  // for top -H / perf
    base::RequestShortSlice();                      // AVIARY_SCHED_SLICE_US, off by default (base/thread_slice.h)
    placement_->AddCurrentThread();
    core_->Run();
  });
  placement_->Start();  // aviary.threadPlacement: detects the log disk's interrupts, logs, adapts
  metrics_ = std::make_unique<MetricsEndpoint>(core_.get(), opts_.core.config.metrics_provider);
  metrics_->Start();  // a port that cannot be bound is logged, not fatal
  started_ = true;
  StartAdmin();
  return true;
}

void Server::Stop() {
  // Idempotent, and safe after a failed Start. Core first: once it is joined
  // nothing posts to the network or the log any more.
  started_ = false;
  placement_->Stop();                    // before the placed threads exit (their ids)
  if (admin_http_) admin_http_->Stop();  // its requests may wait for the core
  admin_http_.reset();
  if (metrics_) metrics_->Stop();  // its scrapes ask the core
  core_->RequestStop();
  if (core_thread_.joinable()) core_thread_.join();
  if (durable_ != nullptr) durable_->Stop();
  if (quorum_peer_ != nullptr) quorum_peer_->Stop();
  snapshotter_.reset();
  net_->Stop();
  trace::Stop();
}

void Server::OnFrames(std::vector<net::Frame>& frames) {
  // Kept per I/O thread: its storage is reused from pass to pass (Submit
  // leaves it empty; a hand-over to the core swaps in the inbox's).
  thread_local std::vector<CoreEvent> events;
  events.clear();
  events.reserve(frames.size());
  // Storage for the reads' paths, handed back by the core (path_pool.h):
  // topped up once per pass, at most kKeepSparePaths kept by this thread.
  thread_local std::vector<std::string> spare_paths;
  const size_t want_paths = std::min(2 * frames.size(), kKeepSparePaths);  // a set takes two
  if (spare_paths.size() < want_paths) core_->path_pool().Take(&spare_paths, want_paths - spare_paths.size());
  int64_t now_us = ClockOf(opts_).SteadyUs();
  // Tracing: the kernel's receive timestamp -> now, once per read (the
  // frames of one read share their stamp).
  const int64_t real_now_ns = trace::On() ? RealNowNs() : 0;
  int64_t last_stamp = 0;
  for (auto& f : frames) {
    if (real_now_ns != 0 && f.arrived_real_ns != 0 && f.arrived_real_ns != last_stamp) {
      last_stamp = f.arrived_real_ns;
      trace::Record(trace::kIoWait, (real_now_ns - f.arrived_real_ns) / 1000);
    }
    CoreEvent& ev = events.emplace_back();  // filled in place
    ev.conn = f.conn;
    ev.received_us = now_us;
    switch (f.kind) {
      case net::Frame::Kind::kOpened:
        ev.kind = CoreEvent::Kind::kOpened;
        ev.text = std::move(f.data);
        ev.x509_subject = std::move(f.x509_subject);
        break;
      case net::Frame::Kind::kClosed:
        ev.kind = CoreEvent::Kind::kClosed;
        break;
      case net::Frame::Kind::kDrained:
        ev.kind = CoreEvent::Kind::kDrained;
        break;
      case net::Frame::Kind::kFourLetter:
        ev.kind = CoreEvent::Kind::kFourLetter;
        ev.text = std::move(f.data);
        break;
      case net::Frame::Kind::kPayload:
        // f.payload: a view valid during this call (decoded here, copied
        // only when it does not decode).
        if (f.first) {
          ev.kind = proto::DecodeConnectRequest(f.payload, &ev.connect) ? CoreEvent::Kind::kConnect
                                                                        : CoreEvent::Kind::kProtocolError;
        } else {
          ev.kind = CoreEvent::Kind::kRequest;
          ev.bytes = f.payload.size() + 4;
          PathPool::SeedPath(f.payload, &ev.request, &spare_paths);  // a read's path decodes into kept storage
          ev.decode_err = proto::DecodeRequest(f.payload, &ev.request);
          // Kept only when it did not decode: a follower forwards these bytes.
          if (ev.decode_err != proto::Err::kOk && f.payload.size() > 8) ev.raw_body = std::string(f.payload.substr(8));
          if (f.payload.size() < 8) ev.kind = CoreEvent::Kind::kProtocolError;  // not even a header: close
        }
        break;
    }
  }
  core_->Submit(events);  // run here when the core is idle (run to completion), else handed over
  if (events.capacity() > kKeepEvents) std::vector<CoreEvent>().swap(events);  // a burst's storage is not kept
}

void Server::Deliver(std::vector<net::ConnectionServer::Out>& batch) { net_->SendBatch(batch); }
void Server::DeliverWrites(std::vector<net::ConnectionServer::Out>& batch) { net_->SendBatch(batch, true); }

void Server::CloseNow(net::ConnId conn) { net_->Close(conn); }

}  // namespace aviary::server
