// QuorumTransport on loopback: learner/leader packet exchange, ordering and
// large packets, raw sections after SNAP, bounded output and event queues,
// and hostile streams dropped without harming another learner.
#include "peer/quorum_transport.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "peer/quorum_internal.h"
#include "peer_test_util.h"
#include "quorum/codec.h"

namespace aviary::peer {
namespace {

using quorum::MakeZxid;
using quorum::PacketType;
using quorum::QuorumPacket;
using Kind = QuorumEvent::Kind;

QuorumEvent Expect(QuorumTransport& t, Kind kind) {
  QuorumEvent ev;
  EXPECT_TRUE(t.Poll(&ev, 5000));
  EXPECT_EQ(static_cast<int>(ev.kind), static_cast<int>(kind)) << ev.reason;
  return ev;
}

struct Pair {
  QuorumTransport leader, learner;
  ConnId at_leader = 0, at_learner = 0;
  int port = -1;
  explicit Pair(QuorumTransportConfig lc = {}, QuorumTransportConfig fc = {}) : leader(lc), learner(fc) {
    leader.Start();
    learner.Start();
    std::string err;
    port = leader.Listen("127.0.0.1", 0, false, &err);
    EXPECT_GT(port, 0) << err;
    at_learner = learner.Connect("127.0.0.1", port);
    EXPECT_EQ(Expect(learner, Kind::kConnected).conn, at_learner);
    QuorumEvent ev = Expect(leader, Kind::kConnected);
    EXPECT_TRUE(ev.accepted);
    at_leader = ev.conn;
  }
};

TEST(QuorumTransport, FollowerInfoLeaderInfoAndClose) {
  Pair p;
  QuorumPacket fi{PacketType::kFollowerInfo, MakeZxid(1, 0), quorum::EncodeLearnerInfo({2, 0x10000, 0}), false, {}};
  ASSERT_EQ(p.learner.Send(p.at_learner, fi), QuorumTransport::SendResult::kQueued);
  QuorumEvent ev = Expect(p.leader, Kind::kPacket);
  EXPECT_EQ(ev.conn, p.at_leader);
  EXPECT_EQ(ev.packet, fi);
  QuorumPacket li{PacketType::kLeaderInfo, MakeZxid(2, 0), quorum::EncodeLeaderInfo(0x10000), false, {}};
  p.leader.Send(p.at_leader, li);
  EXPECT_EQ(Expect(p.learner, Kind::kPacket).packet, li);
  p.learner.Close(p.at_learner);
  EXPECT_EQ(Expect(p.learner, Kind::kDisconnected).conn, p.at_learner);
  EXPECT_EQ(Expect(p.leader, Kind::kDisconnected).conn, p.at_leader);
  EXPECT_EQ(p.leader.Send(p.at_leader, li), QuorumTransport::SendResult::kClosed);
}

TEST(QuorumTransport, ManyAndLargePacketsInOrder) {
  QuorumTransportConfig small_queue;
  small_queue.max_pending_events = 4;  // reading pauses and resumes
  Pair p(small_queue);
  std::vector<QuorumPacket> sent;
  for (int i = 0; i < 300; ++i) {
    QuorumPacket q{PacketType::kProposal, MakeZxid(2, i), std::string(i % 50 == 0 ? 1500000 : i, 'x'), false, {}};
    sent.push_back(q);
    ASSERT_EQ(p.learner.Send(p.at_learner, q), QuorumTransport::SendResult::kQueued);
  }
  for (const QuorumPacket& q : sent) {
    QuorumEvent ev = Expect(p.leader, Kind::kPacket);
    ASSERT_EQ(ev.packet.zxid, q.zxid);
    ASSERT_EQ(ev.packet.data.size(), q.data.size());
  }
}

class CountSection : public quorum::RawSection {
 public:
  explicit CountSection(size_t n) : left(n) {}
  quorum::ParseStatus Feed(std::string_view bytes, size_t* consumed) override {
    *consumed = std::min(left, bytes.size());
    body.append(bytes.substr(0, *consumed));
    left -= *consumed;
    return left == 0 ? quorum::ParseStatus::kOk : quorum::ParseStatus::kNeedMore;
  }
  size_t left;
  std::string body;
};

TEST(QuorumTransport, RawSectionAfterSnap) {
  QuorumTransportConfig learner_cfg;
  learner_cfg.raw_after = [](ConnId, const QuorumPacket& q) -> std::unique_ptr<quorum::RawSection> {
    if (q.type == PacketType::kSnap) return std::make_unique<CountSection>(100000);
    return nullptr;
  };
  Pair p({}, learner_cfg);
  p.leader.Send(p.at_leader, {PacketType::kSnap, MakeZxid(1, 3), "", true, {}});
  std::string body(100000, 's');
  p.leader.SendRaw(p.at_leader, body);
  p.leader.Send(p.at_leader, {PacketType::kNewLeader, MakeZxid(2, 0), "", false, {}});
  EXPECT_EQ(Expect(p.learner, Kind::kPacket).packet.type, PacketType::kSnap);
  QuorumEvent raw = Expect(p.learner, Kind::kRawDone);
  ASSERT_TRUE(raw.raw);
  EXPECT_EQ(static_cast<CountSection*>(raw.raw.get())->body, body);
  EXPECT_EQ(Expect(p.learner, Kind::kPacket).packet.type, PacketType::kNewLeader);
}

TEST(QuorumTransport, HostileLearnerDroppedOthersServed) {
  QuorumTransportConfig cfg;
  cfg.max_packet_buffer_bytes = 4096;
  Pair p(cfg);
  int bad = testing::RawConnect(p.port);
  ConnId bad_id = Expect(p.leader, Kind::kConnected).conn;
  // PROPOSAL with a data length of 1 GiB: rejected from its 16-byte header.
  testing::WriteAll(
      bad, quorum::EncodePacket({PacketType::kAck, 1, "", false, {}}) + std::string("\x00\x00\x00\x02"
                                                                                    "\x00\x00\x00\x00\x00\x00\x00\x01"
                                                                                    "\x40\x00\x00\x00",
                                                                                    16));
  EXPECT_EQ(Expect(p.leader, Kind::kPacket).packet.type, PacketType::kAck);
  QuorumEvent gone = Expect(p.leader, Kind::kDisconnected);
  EXPECT_EQ(gone.conn, bad_id);
  EXPECT_TRUE(testing::ClosedByPeer(bad));
  close(bad);
  QuorumPacket ping{PacketType::kPing, 5, quorum::EncodeSessionTouches({{7, 3000}}), false, {}};
  p.learner.Send(p.at_learner, ping);
  QuorumEvent ev = Expect(p.leader, Kind::kPacket);
  EXPECT_EQ(ev.conn, p.at_leader);
  EXPECT_EQ(ev.packet, ping);
}

TEST(QuorumTransport, OutputBacklogBounded) {
  QuorumTransportConfig cfg;
  cfg.max_output_bytes = 1 << 20;
  QuorumTransport leader(cfg);
  leader.Start();
  std::string err;
  int port = leader.Listen("127.0.0.1", 0, false, &err);
  int reader = testing::RawConnect(port);  // never reads
  ConnId id = Expect(leader, Kind::kConnected).conn;
  std::string chunk(256 * 1024, 'z');
  int queued = 0;
  QuorumTransport::SendResult r = QuorumTransport::SendResult::kQueued;
  for (int i = 0; i < 200 && r == QuorumTransport::SendResult::kQueued; ++i) {
    r = leader.SendRaw(id, chunk);
    if (r == QuorumTransport::SendResult::kQueued) queued++;
    usleep(2000);
  }
  EXPECT_EQ(r, QuorumTransport::SendResult::kFull);
  EXPECT_LE(leader.OutputBacklog(id), cfg.max_output_bytes);
  EXPECT_LT(queued, 200);
  close(reader);
}

TEST(QuorumTransport, ConnectFailureReported) {
  QuorumTransport t;
  t.Start();
  ConnId id = t.Connect("127.0.0.1", testing::FreePort());
  QuorumEvent ev = Expect(t, Kind::kDisconnected);
  EXPECT_EQ(ev.conn, id);
  EXPECT_FALSE(ev.reason.empty());
}

// Interrupt ends a waiting Poll at once (the consensus thread has proposals
// or fsync completions to handle), and one made before Poll ends the next.
TEST(QuorumTransport, InterruptEndsAWaitingPoll) {
  QuorumTransport t;
  t.Start();
  QuorumEvent ev;
  t.Interrupt();
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(t.Poll(&ev, 10000));
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    t.Interrupt();
  });
  EXPECT_FALSE(t.Poll(&ev, 10000));
  other.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

// Send wakes the I/O thread only when the queue was empty: a burst from
// another thread, racing with the writes, still arrives whole and in order.
TEST(QuorumTransport, BurstFromAnotherThreadArrivesInOrder) {
  Pair p;
  constexpr int kPackets = 20000;
  std::thread sender([&] {
    for (int i = 1; i <= kPackets; ++i) {
      QuorumPacket q{PacketType::kAck, MakeZxid(2, i), std::string(i % 7, 'a'), false, {}};
      while (p.learner.Send(p.at_learner, q) == QuorumTransport::SendResult::kFull) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (i % 1000 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  });
  for (int i = 1; i <= kPackets; ++i) {
    QuorumEvent ev = Expect(p.leader, Kind::kPacket);
    ASSERT_EQ(ev.packet.zxid, MakeZxid(2, i));
  }
  sender.join();
}

// PollMany hands over what is queued, at most `max`, in order; packets read
// just before the peer closed come before its kDisconnected.
TEST(QuorumTransport, PollManyInOrderThenTheClose) {
  Pair p;
  for (int i = 1; i <= 10; ++i) {
    p.learner.Send(p.at_learner, {PacketType::kAck, MakeZxid(2, i), {}, false, {}});
  }
  p.learner.Close(p.at_learner);
  std::vector<QuorumEvent> got;
  for (int tries = 0; tries < 100 && got.size() < 11; ++tries) {
    size_t before = got.size();
    size_t n = p.leader.PollMany(&got, 4, 5000);
    ASSERT_LE(n, 4u);
    ASSERT_EQ(got.size(), before + n);
  }
  ASSERT_EQ(got.size(), 11u);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(static_cast<int>(got[i].kind), static_cast<int>(Kind::kPacket));
    EXPECT_EQ(got[i].packet.zxid, MakeZxid(2, i + 1));
  }
  EXPECT_EQ(static_cast<int>(got[10].kind), static_cast<int>(Kind::kDisconnected));
}

// defer_send_wakes: a send is not written until the sender's Flush (or its
// next Poll / PollMany): one I/O-thread wakeup per pass of sends.
TEST(QuorumTransport, DeferredSendWaitsForFlush) {
  QuorumTransportConfig deferred;
  deferred.defer_send_wakes = true;
  Pair p({}, deferred);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the learner's I/O thread is back in poll()
  QuorumPacket ack{PacketType::kAck, MakeZxid(2, 1), {}, false, {}};
  ASSERT_EQ(p.learner.Send(p.at_learner, ack), QuorumTransport::SendResult::kQueued);
  QuorumEvent ev;
  EXPECT_FALSE(p.leader.Poll(&ev, 300));  // the learner's I/O thread was not woken
  EXPECT_EQ(p.learner.OutputBacklog(p.at_learner), quorum::EncodePacket(ack).size());
  p.learner.Flush();
  EXPECT_EQ(Expect(p.leader, Kind::kPacket).packet, ack);
}

// A sender whose output is full (a DIFF larger than max_output_bytes) waits
// in WaitOutput, which wakes the I/O thread even when its wake was deferred:
// the backlog drains and nothing is dropped.
TEST(QuorumTransport, WaitOutputDrainsAFullDeferredBacklog) {
  QuorumTransportConfig deferred;
  deferred.defer_send_wakes = true;
  deferred.max_output_bytes = 256 * 1024;
  Pair p(deferred, {});
  constexpr int kPackets = 400;
  int waits = 0;
  for (int i = 1; i <= kPackets; ++i) {
    QuorumPacket q{PacketType::kProposal, MakeZxid(2, i), std::string(4096, 'd'), false, {}};
    while (p.leader.Send(p.at_leader, q) == QuorumTransport::SendResult::kFull) {
      ++waits;
      ASSERT_LT(waits, 5000);
      p.leader.WaitOutput(10);
    }
  }
  EXPECT_GT(waits, 0);
  p.leader.Flush();
  for (int i = 1; i <= kPackets; ++i) ASSERT_EQ(Expect(p.learner, Kind::kPacket).packet.zxid, MakeZxid(2, i));
}

// on_output_taken: each time the I/O thread takes a labelled connection's
// queued packets, how many and how long the oldest waited (the leader's
// learner_handler_qp_size / _qp_time_ms); raw bytes and unlabelled
// connections are not counted.
TEST(QuorumTransport, OutputTakenReportsQueuedPacketsOfALabelledConnection) {
  struct Taken {
    std::mutex mu;
    std::vector<std::pair<std::string, uint64_t>> seen;
    int64_t max_wait_ms = -1;
  };
  auto taken = std::make_shared<Taken>();
  QuorumTransportConfig leader;
  leader.defer_send_wakes = true;
  leader.on_output_taken = [taken](const std::string& label, uint64_t n, int64_t waited_ms) {
    std::lock_guard lock(taken->mu);
    taken->seen.emplace_back(label, n);
    taken->max_wait_ms = std::max(taken->max_wait_ms, waited_ms);
  };
  Pair p(leader, {});
  QuorumPacket ping{PacketType::kPing, MakeZxid(2, 0), {}, false, {}};
  ASSERT_EQ(p.leader.Send(p.at_leader, ping), QuorumTransport::SendResult::kQueued);  // not labelled yet
  p.leader.Flush();
  EXPECT_EQ(Expect(p.learner, Kind::kPacket).packet, ping);
  p.leader.SetLabel(p.at_leader, "7");
  // An I/O thread still busy with the first flush may take the next packets
  // at once (a loaded machine): then the attempt shows no wait and is rerun.
  bool waited = false;
  for (int attempt = 0; attempt < 5 && !waited; ++attempt) {
    {
      std::lock_guard lock(taken->mu);
      taken->seen.clear();
      taken->max_wait_ms = -1;
    }
    for (int i = 1; i <= 5; ++i) {
      QuorumPacket q{PacketType::kProposal, MakeZxid(2 + attempt, i), "x", false, {}};
      ASSERT_EQ(p.leader.Send(p.at_leader, q), QuorumTransport::SendResult::kQueued);
    }
    ASSERT_EQ(p.leader.SendRaw(p.at_leader, quorum::EncodePacket(ping)), QuorumTransport::SendResult::kQueued);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the deferred wake: the packets wait
    bool taken_early = false;
    {
      std::lock_guard lock(taken->mu);
      taken_early = !taken->seen.empty();
    }
    p.leader.Flush();
    for (int i = 1; i <= 5; ++i) ASSERT_EQ(Expect(p.learner, Kind::kPacket).packet.zxid, MakeZxid(2 + attempt, i));
    EXPECT_EQ(Expect(p.learner, Kind::kPacket).packet, ping);
    std::lock_guard lock(taken->mu);
    uint64_t packets = 0;  // one batch unless the I/O thread woke between the Sends
    for (const auto& [label, n] : taken->seen) {
      EXPECT_EQ(label, "7");
      packets += n;
    }
    EXPECT_EQ(packets, 5u);
    if (!taken_early) {
      EXPECT_GE(taken->max_wait_ms, 25);
      waited = true;
    }
  }
  EXPECT_TRUE(waited) << "the I/O thread took the packets early in every attempt";
}

// inline_flush: Flush writes the queued output on the calling thread (a
// small packet is in the socket when Flush returns: nothing is left for
// the I/O thread), and the packets arrive as with the I/O thread's writes.
TEST(QuorumTransport, InlineFlushWritesOnTheCallingThread) {
  QuorumTransportConfig inline_cfg;
  inline_cfg.defer_send_wakes = true;
  inline_cfg.inline_flush = true;
  Pair p({}, inline_cfg);
  for (int round = 1; round <= 3; ++round) {
    for (int i = 1; i <= 10; ++i) {
      QuorumPacket ack{PacketType::kAck, MakeZxid(2, round * 100 + i), {}, false, {}};
      ASSERT_EQ(p.learner.Send(p.at_learner, ack), QuorumTransport::SendResult::kQueued);
    }
    EXPECT_GT(p.learner.OutputBacklog(p.at_learner), 0u);
    p.learner.Flush();
    EXPECT_EQ(p.learner.OutputBacklog(p.at_learner), 0u);  // written by Flush itself
    for (int i = 1; i <= 10; ++i) ASSERT_EQ(Expect(p.leader, Kind::kPacket).packet.zxid, MakeZxid(2, round * 100 + i));
  }
  // The other direction and a close still work as before.
  QuorumPacket ping{PacketType::kPing, MakeZxid(2, 0), {}, false, {}};
  p.leader.Send(p.at_leader, ping);
  EXPECT_EQ(Expect(p.learner, Kind::kPacket).packet, ping);
  p.learner.Close(p.at_learner);
  EXPECT_EQ(Expect(p.learner, Kind::kDisconnected).conn, p.at_learner);
  EXPECT_EQ(Expect(p.leader, Kind::kDisconnected).conn, p.at_leader);
}

// What the socket does not take in an inline Flush (output far beyond its
// buffer while the reader is slow) goes to the I/O thread, in front of what
// is queued later: every packet arrives once, in order.
TEST(QuorumTransport, InlineFlushLeavesAFullSocketsRestToTheIoThread) {
  QuorumTransportConfig inline_cfg;
  inline_cfg.defer_send_wakes = true;
  inline_cfg.inline_flush = true;
  QuorumTransportConfig slow_reader;
  slow_reader.max_pending_events = 8;  // the reader stops reading while its events wait
  Pair p(inline_cfg, slow_reader);
  constexpr int kPackets = 200;
  for (int i = 1; i <= kPackets; ++i) {
    QuorumPacket q{PacketType::kProposal, MakeZxid(2, i), std::string(i % 20 == 0 ? 1 << 20 : 3000, 'p'), false, {}};
    ASSERT_EQ(p.leader.Send(p.at_leader, q), QuorumTransport::SendResult::kQueued);
    if (i % 7 == 0) p.leader.Flush();
  }
  p.leader.Flush();
  for (int i = 1; i <= kPackets; ++i) {
    QuorumEvent ev = Expect(p.learner, Kind::kPacket);
    ASSERT_EQ(ev.packet.zxid, MakeZxid(2, i));
    ASSERT_EQ(ev.packet.data.size(), static_cast<size_t>(i % 20 == 0 ? 1 << 20 : 3000));
  }
  EXPECT_TRUE(testing::WaitFor([&] { return p.leader.OutputBacklog(p.at_leader) == 0; }));
}

// Two threads send and flush on one connection at once (one may queue while
// the other writes inline), and the reader closes meanwhile: each thread's
// packets arrive in its order, and nothing is written to a closed socket.
TEST(QuorumTransport, InlineFlushFromTwoThreadsKeepsEachThreadsOrder) {
  QuorumTransportConfig inline_cfg;
  inline_cfg.defer_send_wakes = true;
  inline_cfg.inline_flush = true;
  Pair p(inline_cfg, {});
  constexpr int kPerThread = 3000;
  auto sender = [&](int tag) {
    for (int i = 1; i <= kPerThread; ++i) {
      QuorumPacket q{PacketType::kProposal, MakeZxid(tag, i), std::string(64 + i % 512, 'q'), false, {}};
      if (p.leader.Send(p.at_leader, q) != QuorumTransport::SendResult::kQueued) return;
      if (i % 3 == 0) p.leader.Flush();
    }
    p.leader.Flush();
  };
  std::thread a(sender, 3), b(sender, 4);
  int64_t last[2] = {0, 0};
  for (int n = 0; n < 2 * kPerThread; ++n) {
    QuorumEvent ev = Expect(p.learner, Kind::kPacket);
    ASSERT_EQ(static_cast<int>(ev.kind), static_cast<int>(Kind::kPacket));
    const int64_t tag = quorum::EpochOf(ev.packet.zxid);
    ASSERT_TRUE(tag == 3 || tag == 4);
    ASSERT_EQ(quorum::CounterOf(ev.packet.zxid), last[tag - 3] + 1);
    last[tag - 3] = quorum::CounterOf(ev.packet.zxid);
  }
  a.join();
  b.join();
  // A close while a thread keeps flushing: the close wins, sends report it.
  std::atomic<bool> done{false};
  std::thread c([&] {
    QuorumPacket q{PacketType::kPing, MakeZxid(5, 0), std::string(100, 'z'), false, {}};
    while (!done.load() && p.leader.Send(p.at_leader, q) == QuorumTransport::SendResult::kQueued) p.leader.Flush();
  });
  p.learner.Close(p.at_learner);
  QuorumEvent ev;
  while (p.leader.Poll(&ev, 5000) && ev.kind != Kind::kDisconnected) {
  }
  EXPECT_EQ(static_cast<int>(ev.kind), static_cast<int>(Kind::kDisconnected));
  done = true;
  c.join();
  EXPECT_EQ(p.leader.Send(p.at_leader, {PacketType::kPing, 0, {}, false, {}}), QuorumTransport::SendResult::kClosed);
}

// The event queue between the I/O thread and the consumer: FIFO across
// batches appended, single pops and partial takes, with its taken prefix
// compacted away (the live part is what max_pending_events bounds).
TEST(QuorumEventQueue, KeepsOrderAcrossAppendsPopsAndPartialTakes) {
  QuorumEventQueue q;
  int64_t pushed = 0, taken = 0;
  std::vector<QuorumEvent> batch, out;
  auto push = [&](int n) {
    for (int i = 0; i < n; ++i) {
      QuorumEvent ev;
      ev.packet.zxid = ++pushed;
      batch.push_back(std::move(ev));
    }
    q.Append(batch);
    EXPECT_TRUE(batch.empty());
  };
  auto check = [&](const QuorumEvent& ev) { ASSERT_EQ(ev.packet.zxid, ++taken); };
  push(10);
  ASSERT_EQ(q.TakeInto(&out, 256), 10u);  // all at once: the vectors are swapped
  for (const QuorumEvent& ev : out) check(ev);
  out.clear();
  for (int round = 0; round < 50; ++round) {
    push(97);
    check(q.Pop());
    out.clear();
    q.TakeInto(&out, 60);
    for (const QuorumEvent& ev : out) check(ev);
  }
  out.clear();
  while (!q.empty()) {
    const size_t before = q.size();
    const size_t n = q.TakeInto(&out, 256);
    ASSERT_EQ(q.size(), before - n);
  }
  for (const QuorumEvent& ev : out) check(ev);
  EXPECT_EQ(taken, pushed);
}

}  // namespace
}  // namespace aviary::peer
