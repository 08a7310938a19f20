// libFuzzer target for the quorum protocol decoders (src/quorum/codec.h):
// what one server accepts from another, quorum SASL's QuorumAuthPacket too. The first input byte picks the
// decoder, the rest is its input. Whatever decodes is re-encoded; the
// re-encoded bytes must decode again and re-encode to the same bytes
// (canonical after one pass). The stream parser is fed the input in chunks
// whose sizes come from the input itself and must never buffer more than one
// bounded packet.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "quorum/codec.h"

namespace {

using namespace aviary::quorum;

void Check(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "fuzz_quorum invariant failed: %s\n", what);
    std::abort();
  }
}

// Decode, encode, decode, encode: the two encodings must agree.
template <typename Decode, typename Encode>
void RoundTrip(std::string_view in, Decode decode, Encode encode, const char* what) {
  auto first = decode(in);
  if (!first) return;
  std::string e1 = encode(*first);
  auto second = decode(e1);
  Check(second.has_value(), what);
  Check(encode(*second) == e1, what);
}

void FuzzPacket(std::string_view in) {
  QuorumPacket p;
  size_t consumed = 0;
  if (DecodePacket(in, &p, &consumed) != ParseStatus::kOk) return;
  Check(consumed <= in.size(), "packet consumed within input");
  std::string e1 = EncodePacket(p);
  QuorumPacket back;
  size_t c2 = 0;
  Check(DecodePacket(e1, &back, &c2) == ParseStatus::kOk && c2 == e1.size(), "packet re-decodes");
  Check(EncodePacket(back) == e1, "packet re-encodes identically");
}

void FuzzStream(std::string_view in) {
  PacketStreamParser parser(64 * 1024);
  size_t pos = 0;
  while (pos < in.size() && !parser.bad()) {
    size_t chunk = 1 + static_cast<uint8_t>(in[pos]) % 64;
    chunk = std::min(chunk, in.size() - pos);
    parser.Feed(in.substr(pos, chunk));
    pos += chunk;
    PacketStreamParser::Item item;
    while (parser.Next(&item) == ParseStatus::kOk) {
      Check(item.kind == PacketStreamParser::Item::Kind::kPacket, "no raw section was begun");
      Check(item.packet.data.size() <= 64 * 1024, "packet data within the bound");
    }
    Check(parser.buffered() <= in.size(), "parser buffers no more than it was fed");
  }
}

void FuzzInitial(std::string_view in) {
  InitialMessage m;
  size_t consumed = 0;
  if (DecodeInitialMessage(in, &m, &consumed) != ParseStatus::kOk) return;
  Check(consumed <= in.size(), "initial message consumed within input");
  // Wildcard addresses are dropped as ZooKeeper drops them; a message left
  // with none is accepted (the sid is what counts) but has no written form.
  if (m.protocol_version < 0 && m.addresses.empty()) return;
  std::string e1;
  EncodeInitialMessage(m, &e1);
  InitialMessage back;
  size_t c2 = 0;
  Check(DecodeInitialMessage(e1, &back, &c2) == ParseStatus::kOk, "initial message re-decodes");
  std::string e2;
  EncodeInitialMessage(back, &e2);
  Check(e1 == e2, "initial message re-encodes identically");
}

// Notifications are not canonical after one pass: a body whose version field
// says 1 is written back in the 40-byte form, which ZooKeeper reads as
// version 0, written back in the 28-byte form. The vote itself must survive
// every pass, and the encoding must be stable from the second pass on.
void FuzzNotification(std::string_view in) {
  auto first = DecodeNotification(in);
  if (!first) return;
  std::string e = EncodeNotification(*first);
  for (int pass = 0; pass < 3; ++pass) {
    auto again = DecodeNotification(e);
    Check(again.has_value(), "notification re-decodes");
    Check(again->state == first->state && again->leader == first->leader && again->zxid == first->zxid &&
              again->election_epoch == first->election_epoch,
          "the vote survives re-encoding");
    std::string next = EncodeNotification(*again);
    if (pass == 2) Check(next == e, "notification encoding reaches a fixpoint");
    e = std::move(next);
  }
}

// Quorum SASL: a QuorumAuthPacket decodes within bounds and re-encodes to
// the bytes it came from (the layout has one form); the magic peek agrees.
void FuzzAuthPacket(std::string_view in) {
  ParseStatus peek = PeekQuorumAuth(in);
  Check(peek != ParseStatus::kNeedMore || in.size() < 8, "peek needs 8 bytes only");
  QuorumAuthPacket p;
  size_t consumed = 0;
  if (DecodeQuorumAuthPacket(in, &p, &consumed) != ParseStatus::kOk) return;
  Check(consumed <= in.size() && p.token.size() <= kMaxQuorumAuthTokenBytes, "auth packet within bounds");
  Check((peek == ParseStatus::kOk) == (p.magic == kQuorumAuthMagic), "peek agrees with the decoded magic");
  std::string e;
  EncodeQuorumAuthPacket(p, &e);
  Check(e == in.substr(0, consumed), "auth packet re-encodes to its bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 10) {
    case 0:
      FuzzPacket(in);
      break;
    case 1:
      FuzzStream(in);
      break;
    case 2:
      FuzzInitial(in);
      break;
    case 3:
      FuzzNotification(in);
      break;
    case 4:
      RoundTrip(in, DecodeLearnerInfo, EncodeLearnerInfo, "learner info round trip");
      break;
    case 5:
      RoundTrip(in, DecodeForwardedRequest, EncodeForwardedRequest, "request round trip");
      break;
    case 6:
      RoundTrip(in, DecodeSessionTouches, EncodeSessionTouches, "touches round trip");
      break;
    case 7:
      RoundTrip(in, DecodeRevalidateRequest, EncodeRevalidateRequest, "revalidate request round trip");
      RoundTrip(in, DecodeRevalidateReply, EncodeRevalidateReply, "revalidate reply round trip");
      break;
    case 8:
      RoundTrip(in, DecodeInformAndActivate, EncodeInformAndActivate, "inform round trip");
      break;
    case 9:
      FuzzAuthPacket(in);
      break;
  }
  return 0;
}
