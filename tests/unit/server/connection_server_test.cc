// net::ConnectionServer over real loopback sockets: framing, bounds, per-IP
// cap, four-letter detection, close_after, slow readers and shutdown.
#include <gtest/gtest.h>
#include <sys/eventfd.h>

#include <memory>
#include <thread>

#include "net_test_util.h"

namespace aviary::server::testing {
namespace {

using net::Frame;
using FK = net::Frame::Kind;

class ConnectionServerTest : public ::testing::Test {
 protected:
  void StartServer(net::ServerOptions o = Options()) {
    server_ = std::make_unique<net::ConnectionServer>(o, &sink_,
                                                      [](std::string_view w) { return w == "ruok" || w == "srvr"; });
    std::string err;
    ASSERT_TRUE(server_->Start(&err)) << err;
    ASSERT_NE(server_->port(), 0);
  }
  static net::ServerOptions Options() {
    net::ServerOptions o;
    o.port = 0;
    o.io_threads = 2;
    o.max_frame_bytes = 1024;
    return o;
  }
  // Connects and waits for the n-th kOpened (1-based), returning its id.
  net::ConnId Accepted(size_t n) {
    net::ConnId id = sink_.WaitOpened(n);
    EXPECT_NE(id, 0u);
    return id;
  }
  bool WaitPayloads(net::ConnId id, size_t n) {
    return sink_.WaitFor([&](const auto& fs) { return RecordingSink::Count(fs, FK::kPayload, id) >= n; });
  }
  bool WaitClosed(net::ConnId id) {
    return sink_.WaitFor([&](const auto& fs) { return RecordingSink::Count(fs, FK::kClosed, id) >= 1; });
  }

  RecordingSink sink_;
  std::unique_ptr<net::ConnectionServer> server_;
};

TEST_F(ConnectionServerTest, OpenedCarriesPeerAddress) {
  StartServer();
  TestClient c(server_->port());
  ASSERT_TRUE(c.connected());
  net::ConnId id = Accepted(1);
  auto fs = sink_.Snapshot();
  ASSERT_EQ(fs[0].kind, FK::kOpened);
  EXPECT_EQ(fs[0].data.rfind("127.0.0.1:", 0), 0u) << fs[0].data;
  EXPECT_NE(id, 0u);
}

// rx_timestamps (AVIARY_LATENCY_TRACE's io_wait): each payload carries when
// its bytes arrived in the socket (CLOCK_REALTIME), between the client's
// write and the frame's delivery; without it, none.
TEST_F(ConnectionServerTest, ReceiveTimestampsWhenAskedFor) {
  auto real_ns = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  net::ServerOptions o = Options();
  o.rx_timestamps = true;
  StartServer(o);
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  // The kernel turns receive timestamps on (a static key) from a work item
  // after the first socket asks for them: the first segments may carry
  // none. One frame at a time until one does.
  bool stamped = false;
  for (size_t n = 1; n <= 100 && !stamped; ++n) {
    const int64_t before = real_ns();
    ASSERT_TRUE(c.Write(Framed("frame")));
    ASSERT_TRUE(WaitPayloads(id, n));
    const int64_t after = real_ns();
    int64_t stamp = 0;
    for (const auto& f : sink_.Snapshot()) {
      if (f.kind == FK::kPayload) stamp = f.arrived_real_ns;  // the latest
    }
    if (stamp == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    stamped = true;
    EXPECT_GE(stamp, before - 1'000'000);  // the two clocks' granularity
    EXPECT_LE(stamp, after);
  }
  EXPECT_TRUE(stamped);
}

TEST_F(ConnectionServerTest, NoReceiveTimestampsByDefault) {
  StartServer();
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  ASSERT_TRUE(c.Write(Framed("hello")));
  ASSERT_TRUE(WaitPayloads(id, 1));
  for (const auto& f : sink_.Snapshot()) EXPECT_EQ(f.arrived_real_ns, 0);
}

TEST_F(ConnectionServerTest, FramesSplitAcrossTinyWritesAreReassembled) {
  StartServer();
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  std::string wire = Framed("hello") + Framed("") + Framed(std::string(300, 'x'));
  for (char ch : wire) {
    ASSERT_TRUE(c.Write(std::string_view(&ch, 1)));
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  ASSERT_TRUE(WaitPayloads(id, 3));
  auto p = sink_.Payloads(id);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "hello");
  EXPECT_EQ(p[1], "");
  EXPECT_EQ(p[2], std::string(300, 'x'));
  // Only the first payload is flagged as the handshake.
  std::vector<bool> first;
  for (const auto& f : sink_.Snapshot())
    if (f.kind == FK::kPayload) first.push_back(f.first);
  EXPECT_EQ(first, (std::vector<bool>{true, false, false}));
}

TEST_F(ConnectionServerTest, SeveralFramesInOneWriteArriveInOrder) {
  StartServer();
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  std::string wire;
  for (int i = 0; i < 100; ++i) wire += Framed("frame-" + std::to_string(i));
  ASSERT_TRUE(c.Write(wire));
  ASSERT_TRUE(WaitPayloads(id, 100));
  auto p = sink_.Payloads(id);
  ASSERT_EQ(p.size(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(p[i], "frame-" + std::to_string(i));
}

TEST_F(ConnectionServerTest, FrameAtLimitIsAcceptedAboveLimitCloses) {
  StartServer();
  TestClient ok(server_->port());
  net::ConnId ok_id = Accepted(1);
  ASSERT_TRUE(ok.Write(Framed(std::string(1024, 'a'))));
  ASSERT_TRUE(WaitPayloads(ok_id, 1));

  TestClient big(server_->port());
  net::ConnId big_id = Accepted(2);
  ASSERT_TRUE(big.Write(RawLength(1025)));  // the header alone is enough
  EXPECT_TRUE(big.ReadUntilClosed());
  EXPECT_TRUE(WaitClosed(big_id));
  EXPECT_EQ(sink_.Payloads(big_id).size(), 0u);
}

TEST_F(ConnectionServerTest, NegativeLengthCloses) {
  StartServer();
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  ASSERT_TRUE(c.Write(Framed("fine")));
  ASSERT_TRUE(WaitPayloads(id, 1));
  ASSERT_TRUE(c.Write(RawLength(-1) + "junk"));
  EXPECT_TRUE(c.ReadUntilClosed());
  EXPECT_TRUE(WaitClosed(id));
  EXPECT_EQ(sink_.Payloads(id).size(), 1u);
}

TEST_F(ConnectionServerTest, MaxPerIpRefusesExtraConnection) {
  auto o = Options();
  o.max_per_ip = 2;
  StartServer(o);
  TestClient a(server_->port());
  Accepted(1);
  TestClient b(server_->port());
  net::ConnId b_id = Accepted(2);
  TestClient extra(server_->port());
  ASSERT_TRUE(extra.connected());  // the kernel completes the handshake...
  EXPECT_TRUE(extra.ReadUntilClosed()) << "...then the server closes it at once";
  EXPECT_EQ(RecordingSink::Count(sink_.Snapshot(), FK::kOpened), 2u);

  // A slot frees up once a connection goes away.
  b.Close();
  ASSERT_TRUE(WaitClosed(b_id));
  TestClient again(server_->port());
  EXPECT_NE(Accepted(3), 0u);
  EXPECT_EQ(server_->connection_count(), 2u);
}

TEST_F(ConnectionServerTest, FourLetterWordDetectedOnFirstFourBytes) {
  StartServer();
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  ASSERT_TRUE(c.Write("ru"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(c.Write("ok"));
  ASSERT_TRUE(sink_.WaitFor([&](const auto& fs) { return RecordingSink::Count(fs, FK::kFourLetter, id) == 1; }));
  for (const auto& f : sink_.Snapshot()) {
    if (f.kind == FK::kFourLetter) {
      EXPECT_EQ(f.data, "ruok");
    }
  }
  server_->Send(id, "imok", /*close_after=*/true);
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(&got));
  EXPECT_EQ(got, "imok");
  EXPECT_TRUE(WaitClosed(id));

  // Four bytes that are not a word are a length prefix.
  TestClient d(server_->port());
  net::ConnId d_id = Accepted(2);
  ASSERT_TRUE(d.Write(Framed("abcd")));
  ASSERT_TRUE(WaitPayloads(d_id, 1));
  EXPECT_EQ(RecordingSink::Count(sink_.Snapshot(), FK::kFourLetter, d_id), 0u);
}

TEST_F(ConnectionServerTest, SendCloseAfterClosesOnceBytesAreWritten) {
  StartServer();
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  server_->Send(id, "first;");
  server_->Send(id, "second", /*close_after=*/true);
  std::string got;
  EXPECT_TRUE(c.ReadUntilClosed(&got));
  EXPECT_EQ(got, "first;second");
  EXPECT_TRUE(WaitClosed(id));
}

TEST_F(ConnectionServerTest, BatchDeliversToSeveralConnections) {
  StartServer();
  TestClient a(server_->port());
  net::ConnId a_id = Accepted(1);
  TestClient b(server_->port());
  net::ConnId b_id = Accepted(2);
  std::vector<net::ConnectionServer::Out> batch{{a_id, "to-a", false}, {b_id, "to-b", false}, {a_id, "!", true}};
  server_->SendBatch(batch);
  for (const auto& o : batch) EXPECT_TRUE(o.bytes.empty()) << "SendBatch takes every entry's bytes";
  std::string got_a, got_b;
  EXPECT_TRUE(a.ReadUntilClosed(&got_a));
  EXPECT_EQ(got_a, "to-a!");
  ASSERT_TRUE(b.ReadExactly(4, &got_b));
  EXPECT_EQ(got_b, "to-b");
}

TEST_F(ConnectionServerTest, BatchLeavesDirectlyWrittenBuffersToTheCaller) {
  // A plain connection with nothing queued is written at once by the
  // caller's thread: its Out keeps the (emptied) buffer for reuse.
  StartServer();
  TestClient a(server_->port());
  net::ConnId a_id = Accepted(1);
  std::string reply(300, 'r');
  std::vector<net::ConnectionServer::Out> batch{{a_id, reply, false}};
  std::string got;
  // The connection becomes direct once its worker has published it: a few
  // tries at most.
  bool kept = false;
  for (int i = 0; i < 50 && !kept; ++i) {
    batch[0].bytes = reply;
    server_->SendBatch(batch);
    EXPECT_TRUE(batch[0].bytes.empty());
    kept = batch[0].bytes.capacity() >= reply.size();
    ASSERT_TRUE(a.ReadExactly(reply.size(), &got));
    EXPECT_EQ(got, reply);
    if (!kept) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(kept) << "the directly written buffer was not left to the caller";
}

TEST_F(ConnectionServerTest, BatchOverTheDirectBoundGoesThroughTheIoThreads) {
  // net::ServerOptions::direct_send_max: a batch of committed writes'
  // replies with more outputs than the bound is written by the I/O threads
  // (its buffers move out, none is left to the caller), in order per
  // connection; a batch within it, or of reads only, is written by the
  // caller as before.
  net::ServerOptions o = Options();
  o.direct_send_max = 1;
  StartServer(o);
  TestClient a(server_->port());
  net::ConnId a_id = Accepted(1);
  TestClient b(server_->port());
  net::ConnId b_id = Accepted(2);
  const std::string ra(300, 'a'), rb(200, 'b');
  for (int i = 0; i < 20; ++i) {
    std::vector<net::ConnectionServer::Out> batch{{a_id, ra, false}, {b_id, rb, false}, {a_id, "!", false}};
    server_->SendBatch(batch, /*writes=*/true);
    for (const auto& out : batch) {
      EXPECT_TRUE(out.bytes.empty());
      EXPECT_LT(out.bytes.capacity(), rb.size()) << "a batch over the bound is handed over, not written here";
    }
    std::string got_a, got_b;
    ASSERT_TRUE(a.ReadExactly(ra.size() + 1, &got_a));
    EXPECT_EQ(got_a, ra + "!");
    ASSERT_TRUE(b.ReadExactly(rb.size(), &got_b));
    EXPECT_EQ(got_b, rb);
  }
  // Within the bound: written by the caller once the connection is direct.
  std::vector<net::ConnectionServer::Out> one{{a_id, ra, false}};
  bool kept = false;
  for (int i = 0; i < 50 && !kept; ++i) {
    one[0].bytes = ra;
    server_->SendBatch(one);
    kept = one[0].bytes.capacity() >= ra.size();
    std::string got;
    ASSERT_TRUE(a.ReadExactly(ra.size(), &got));
    EXPECT_EQ(got, ra);
    if (!kept) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(kept) << "a batch within the bound was not written directly";
  // Over the bound but reads only: written by the caller too.
  kept = false;
  for (int i = 0; i < 50 && !kept; ++i) {
    std::vector<net::ConnectionServer::Out> reads{{a_id, ra, false}, {b_id, rb, false}, {a_id, "!", false}};
    server_->SendBatch(reads, /*writes=*/false);
    kept = reads[0].bytes.capacity() >= ra.size() && reads[1].bytes.capacity() >= rb.size();
    std::string got_a, got_b;
    ASSERT_TRUE(a.ReadExactly(ra.size() + 1, &got_a));
    EXPECT_EQ(got_a, ra + "!");
    ASSERT_TRUE(b.ReadExactly(rb.size(), &got_b));
    EXPECT_EQ(got_b, rb);
    if (!kept) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(kept) << "a batch of reads over the bound was not written directly";
}

TEST_F(ConnectionServerTest, LargeReplyReachesSlowReader) {
  StartServer();
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  std::string big(8u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 4096) % 26);
  server_->Send(id, big, /*close_after=*/true);
  // Let the server fill the socket buffers (8 MB is far more than loopback
  // buffers hold) so it must wait for EPOLLOUT, then read in small chunks.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string got, piece;
  while (got.size() < big.size()) {
    size_t n = std::min<size_t>(256 * 1024, big.size() - got.size());
    ASSERT_TRUE(c.ReadExactly(n, &piece)) << "stalled after " << got.size() << " bytes";
    got += piece;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(got == big) << "payload corrupted";
  EXPECT_TRUE(c.ReadUntilClosed());
}

// Out::notify_drained: kDrained comes once the unwritten output is at most
// kDrainedMark - at once when it already is, and for a client that does not
// read only after it has read enough.
TEST_F(ConnectionServerTest, DrainedReportedWhenTheOutputFallsToTheMark) {
  StartServer();
  auto drained = [&](net::ConnId id) { return RecordingSink::Count(sink_.Snapshot(), FK::kDrained, id); };
  TestClient a(server_->port());
  net::ConnId a_id = Accepted(1);
  std::vector<net::ConnectionServer::Out> batch{{a_id, "small", false, 0, /*notify_drained=*/true}};
  server_->SendBatch(batch);
  ASSERT_TRUE(sink_.WaitFor([&](const auto& fs) { return RecordingSink::Count(fs, FK::kDrained, a_id) >= 1; }));
  std::string got;
  ASSERT_TRUE(a.ReadExactly(5, &got));

  TestClient b(server_->port());
  net::ConnId b_id = Accepted(2);
  const size_t big = 16u << 20;  // far more than loopback's socket buffers take from a client that does not read
  batch = {{b_id, std::string(big, 'x'), false, 0, /*notify_drained=*/true}};
  server_->SendBatch(batch);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(drained(b_id), 0u) << "reported while megabytes were unwritten";
  size_t read = 0;
  while (read < big && drained(b_id) == 0) {
    ASSERT_TRUE(b.ReadExactly(64 * 1024, &got)) << "stalled after " << read << " bytes";
    read += got.size();
  }
  ASSERT_TRUE(sink_.WaitFor([&](const auto& fs) { return RecordingSink::Count(fs, FK::kDrained, b_id) >= 1; }));
  while (read < big) {
    ASSERT_TRUE(b.ReadExactly(std::min<size_t>(64 * 1024, big - read), &got));
    read += got.size();
  }
  EXPECT_EQ(drained(b_id), 1u) << "one report per ask";
  EXPECT_EQ(drained(a_id), 1u);
}

// A client that pipelines requests and reads the large replies only later:
// the request that arrived while the output backlog was over the
// high-water mark (4 MiB) is held back, and must be delivered once the
// client has read the backlog, without any further input from it (the
// client waits for that request's reply). It used to wait for the next
// bytes from the client (a ZooKeeper client's ping, seconds later).
TEST_F(ConnectionServerTest, InputHeldByOutputBacklogIsParsedOnceItDrains) {
  auto o = Options();
  o.io_threads = 1;
  StartServer(o);
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  ASSERT_TRUE(c.Write(Framed("first")));
  ASSERT_TRUE(WaitPayloads(id, 1));
  // Far more than loopback's socket buffers take: most of it stays queued.
  const std::string big(24u << 20, 'r');
  server_->Send(id, big);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_TRUE(c.Write(Framed("second")));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(sink_.Payloads(id).size(), 1u) << "parsed despite the output backlog";
  std::string got;
  ASSERT_TRUE(c.ReadExactly(big.size(), &got, std::chrono::seconds(10)));
  EXPECT_TRUE(got == big);
  EXPECT_TRUE(WaitPayloads(id, 2)) << "the held-back request was not parsed after the backlog drained";
}

TEST_F(ConnectionServerTest, ClosedReportedOncePerConnection) {
  auto o = Options();
  o.io_threads = 1;  // one worker: a later event proves earlier ones were processed
  StartServer(o);
  TestClient a(server_->port());
  net::ConnId a_id = Accepted(1);
  TestClient b(server_->port());
  net::ConnId b_id = Accepted(2);

  a.Close();  // peer close
  ASSERT_TRUE(WaitClosed(a_id));
  server_->Close(b_id);  // server close, twice, then the peer closes too
  server_->Close(b_id);
  EXPECT_TRUE(b.ReadUntilClosed());
  b.Close();
  ASSERT_TRUE(WaitClosed(b_id));
  server_->Close(a_id);  // a gone id: ignored

  TestClient marker(server_->port());
  net::ConnId m_id = Accepted(3);
  ASSERT_TRUE(marker.Write(Framed("m")));
  ASSERT_TRUE(WaitPayloads(m_id, 1));
  auto fs = sink_.Snapshot();
  EXPECT_EQ(RecordingSink::Count(fs, FK::kClosed, a_id), 1u);
  EXPECT_EQ(RecordingSink::Count(fs, FK::kClosed, b_id), 1u);
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(ConnectionServerTest, StopWithOpenConnectionsReturnsPromptly) {
  StartServer();
  std::vector<std::unique_ptr<TestClient>> clients;
  for (int i = 0; i < 5; ++i) clients.push_back(std::make_unique<TestClient>(server_->port()));
  Accepted(5);
  ASSERT_TRUE(clients[0]->Write(RawLength(100) + "partial"));  // a frame left half-read
  auto t0 = Clock::now();
  server_->Stop();
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(1));
  for (auto& c : clients) EXPECT_TRUE(c->ReadUntilClosed());
  server_->Stop();  // idempotent
}

// BUG (src/net/connection_server.cc, Worker::Stop / Worker::Wake): Stop()
// closes each worker's eventfd but leaves evfd_ holding the old number, and
// Send/SendBatch/Close still post to the worker and Wake() it, writing 8
// bytes into whatever file now has that descriptor number. server::Server
// hits this: Server::Stop() stops the network before the core thread, so a
// Deliver() from the core between the two writes to a stale fd. Fix: have
// Wake()/Post*() do nothing once stopping_ is set (under mu_, with Stop()
// setting it under mu_ too) and set evfd_/epfd_ to -1 after closing, and/or
// stop the core thread before the network in Server::Stop().
TEST_F(ConnectionServerTest, SendAfterStopDoesNotWriteToStaleDescriptors) {
  auto o = Options();
  o.io_threads = 1;
  StartServer(o);
  TestClient c(server_->port());
  net::ConnId id = Accepted(1);
  server_->Stop();
  // Reuse the freed descriptor numbers with eventfds we can inspect.
  std::vector<int> fds;
  for (int i = 0; i < 16; ++i) fds.push_back(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  server_->Send(id, "late");
  server_->Close(id);
  int written = 0;
  for (int fd : fds) {
    uint64_t v = 0;
    if (::read(fd, &v, sizeof v) == static_cast<ssize_t>(sizeof v)) ++written;
    ::close(fd);
  }
  EXPECT_EQ(written, 0) << "a stopped server wrote into a descriptor it no longer owns";
}

}  // namespace
}  // namespace aviary::server::testing
