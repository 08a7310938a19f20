// Randomised robustness: mutated valid encodings and random bytes fed to
// every decoder and to the stream parser never crash, never read out of
// bounds (run under ASan) and keep the parser's buffer bounded. The seed is
// fixed, so a failure reproduces.
#include <gtest/gtest.h>

#include <random>

#include "quorum/codec.h"

namespace aviary::quorum {
namespace {

std::string Mutate(std::string s, std::mt19937& rng) {
  if (s.empty()) return s;
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int i = 0; i < edits; ++i) {
    size_t at = rng() % s.size();
    switch (rng() % 3) {
      case 0:
        s[at] = static_cast<char>(rng());
        break;
      case 1:
        s.resize(at);
        break;
      default:
        s.insert(at, 1, static_cast<char>(rng()));
        break;
    }
    if (s.empty()) break;
  }
  return s;
}

std::vector<std::string> Seeds() {
  std::vector<std::string> v;
  v.push_back(EncodePacket({PacketType::kRequest,
                            -1,
                            EncodeForwardedRequest({5, 1, 9, "abc"}),
                            false,
                            {{"digest", "u:p"}, {"ip", "1.2.3.4"}}}));
  v.push_back(EncodeNotification({PeerState::kLeading, 3, MakeZxid(2, 9), 4, 2, 2, "server.1=a:1:2\nversion=0"}));
  std::string hs;
  EncodeInitialMessage({kElectionProtocolV2, 7, {{"::1", 1}, {"10.0.0.1", 2}}}, &hs);
  v.push_back(hs);
  v.push_back(EncodeLearnerInfo({2, 0x10000, 5}));
  v.push_back(EncodeSessionTouches({{1, 2}, {3, 4}}));
  return v;
}

void DecodeEverything(std::string_view in) {
  QuorumPacket p;
  size_t used = 0;
  if (DecodePacket(in, &p, &used, 4096) == ParseStatus::kOk) {
    EXPECT_LE(used, in.size());
  }
  (void)DecodeNotification(in);
  InitialMessage m;
  if (DecodeInitialMessage(in, &m, &used) == ParseStatus::kOk) {
    EXPECT_LE(used, in.size());
  }
  (void)DecodeLearnerInfo(in);
  (void)DecodeForwardedRequest(in);
  (void)DecodeSessionTouches(in);
  (void)DecodeRevalidateRequest(in);
  (void)DecodeRevalidateReply(in);
  (void)DecodeInformAndActivate(in);
}

TEST(Robust, MutatedAndRandomInput) {
  std::mt19937 rng(20261130);
  std::vector<std::string> seeds = Seeds();
  for (int i = 0; i < 20000; ++i) {
    std::string in;
    if (i % 4 == 0) {
      in.resize(rng() % 64);
      for (char& c : in) c = static_cast<char>(rng());
    } else {
      in = Mutate(seeds[rng() % seeds.size()], rng);
    }
    DecodeEverything(in);
  }
}

TEST(Robust, StreamParserStaysBounded) {
  std::mt19937 rng(7);
  std::vector<std::string> seeds = Seeds();
  for (int round = 0; round < 300; ++round) {
    PacketStreamParser parser(4096);
    for (int i = 0; i < 50 && !parser.bad(); ++i) {
      std::string chunk = rng() % 3 ? EncodePacket({PacketType::kPing, i, std::string(rng() % 100, 'p'), false, {}})
                                    : Mutate(seeds[0], rng);
      parser.Feed(chunk);
      PacketStreamParser::Item item;
      while (parser.Next(&item) == ParseStatus::kOk) {
      }
      // At most one incomplete packet: bounded by its limit plus headers.
      EXPECT_LE(parser.buffered(), 4096u + 4096u + 64u);
    }
  }
}

}  // namespace
}  // namespace aviary::quorum
