// Encoders and decoders for the quorum protocol's messages (messages.h), byte
// for byte as Apache ZooKeeper 3.8 writes and reads them. Layouts and their
// sources: docs/design/quorum-wire.md.
//
// Owns: the byte layouts only. Pure functions plus one plain-value stream
// parser (PacketStreamParser) used by one thread at a time.
// Contract: every decoder treats its input as hostile. It never reads past
// its input, never allocates more than a bound it checks first, and reports
// malformed input as a value (nullopt / kBad), never by crashing.
// Encoders append to `out` and never fail.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quorum/messages.h"

namespace aviary::quorum {

// ---- limits (ZooKeeper's values; docs/design/quorum-wire.md) ----

// QuorumCnxManager.PACKETMAXSIZE: an election message's int32 length prefix
// must be in [1, 512 KiB].
inline constexpr size_t kMaxElectionMessageBytes = 512 * 1024;
// QuorumCnxManager.maxBuffer: the InitialMessage address text is 1..2048 bytes.
inline constexpr size_t kMaxInitialAddressBytes = 2048;
// The shortest notification any ZooKeeper generation sends (pre-3.4.6 form).
inline constexpr size_t kMinNotificationBytes = 28;
// BinaryInputArchive: a buffer/string length must be <= jute.maxbuffer +
// zookeeper.jute.maxbuffer.extrasize (defaults 0xfffff each).
inline constexpr size_t kDefaultMaxPacketBufferBytes = 2 * 0xfffff;
// Our bound on QuorumPacket.authinfo entries (ZooKeeper reads any count).
inline constexpr size_t kMaxAuthInfoCount = 1024;
// The learner protocol version a 3.8 leader/learner sends (LearnerInfo,
// LEADERINFO); LearnerHandler assumes 0x1 when FOLLOWERINFO omits it.
inline constexpr int32_t kLearnerProtocolVersion = 0x10000;
inline constexpr int32_t kLegacyLearnerProtocolVersion = 0x1;
// Notification.CURRENTVERSION.
inline constexpr int32_t kNotificationVersion = 2;
// The jute string written after a SNAP body (LearnerHandler / Learner).
inline constexpr std::string_view kSnapSignature = "BenWasHere";

// ---- QuorumPacket: jute record on the quorum port (no length prefix) ----

// type int32, zxid int64, data buffer (-1 when data_null), authinfo vector of
// Id {ustring scheme, ustring id}. An empty authinfo is written as the null
// vector (-1), as Java writes the usual null list; both read as empty.
void EncodePacket(const QuorumPacket& p, std::string* out);
std::string EncodePacket(const QuorumPacket& p);

enum class ParseStatus { kOk, kNeedMore, kBad };

// Decodes one packet from the front of `in`. kOk: *out and *consumed set.
// kNeedMore: `in` is a valid but incomplete prefix. kBad: some length is
// negative (other than -1 null), over `max_buffer_bytes`, or the authinfo
// count is over kMaxAuthInfoCount. Unknown packet types are not an error
// here (ZooKeeper logs and skips them); the type is kept as is.
ParseStatus DecodePacket(std::string_view in, QuorumPacket* out, size_t* consumed,
                         size_t max_buffer_bytes = kDefaultMaxPacketBufferBytes);

// A section of the quorum stream that is not a QuorumPacket: the snapshot
// body (DataTree + sessions in jute, then kSnapSignature) that follows a SNAP
// packet. Its owner parses it incrementally.
class RawSection {
 public:
  virtual ~RawSection() = default;
  // Consumes a prefix of `bytes` (possibly all, possibly none when more is
  // needed) and sets *consumed. Returns kOk when the section has ended (the
  // rest of the stream is packets again), kNeedMore to be fed more, kBad when
  // the section is malformed (the stream is then dead).
  virtual ParseStatus Feed(std::string_view bytes, size_t* consumed) = 0;
};

// Incremental, bounded parser of a QuorumPacket byte stream (one direction of
// one quorum connection). Feed bytes as they arrive; Next() yields complete
// packets. It holds at most one incomplete packet: a length over the bound is
// rejected as soon as its 4 bytes arrive, so buffered() never exceeds the
// bound plus what one Feed added. After kBad the parser stays bad.
class PacketStreamParser {
 public:
  explicit PacketStreamParser(size_t max_buffer_bytes = kDefaultMaxPacketBufferBytes)
      : max_buffer_bytes_(max_buffer_bytes) {}

  struct Item {
    enum class Kind { kPacket, kRawDone } kind = Kind::kPacket;
    QuorumPacket packet;              // kPacket
    std::unique_ptr<RawSection> raw;  // kRawDone: the section that ended
  };

  void Feed(std::string_view bytes);
  // kOk: *item set. kNeedMore: nothing complete yet. kBad: stream malformed.
  ParseStatus Next(Item* item);
  // The bytes after the packet most recently returned belong to `section`
  // until it reports kOk (then Next() yields kRawDone with it).
  void BeginRaw(std::unique_ptr<RawSection> section);
  bool bad() const { return bad_; }
  size_t buffered() const { return buf_.size() - pos_; }

 private:
  void Compact();
  size_t max_buffer_bytes_;
  std::string buf_;
  size_t pos_ = 0;
  bool bad_ = false;
  std::unique_ptr<RawSection> raw_;
};

// ---- quorum SASL: QuorumAuthPacket (zookeeper.jute) ----
//
// Written with no length prefix after the InitialMessage on an election
// connection, and first of all on a learner's quorum-port connection:
// long magic, int status, buffer token (-1: null). QuorumAuth's magic is
// -0xa0dbcafecafe1234L in Java, i.e. the positive 0x5f2435013501edcc; an
// accepting server peeks the next 8 bytes to tell an authenticating peer
// (magic) from one that sends its first frame or packet at once.
inline constexpr int64_t kQuorumAuthMagic = 0x5f2435013501edccLL;
// Our bound on a QuorumAuthPacket token (DIGEST-MD5 tokens are a few hundred
// bytes, Kerberos tickets a few KiB); a longer one is malformed.
inline constexpr size_t kMaxQuorumAuthTokenBytes = 64 * 1024;
// QuorumAuth.Status.
enum class QuorumAuthStatus : int32_t { kInProgress = 0, kSuccess = 1, kError = -1 };

struct QuorumAuthPacket {
  int64_t magic = kQuorumAuthMagic;
  int32_t status = 0;  // QuorumAuthStatus; other values are kept as read (ZooKeeper takes them as ERROR)
  std::string token;
  bool token_null = false;
};

void EncodeQuorumAuthPacket(const QuorumAuthPacket& p, std::string* out);
// One packet from the front of `in` (the magic is not checked: a learner
// reads the server's replies without looking at it). kBad: a token length
// below -1 or above kMaxQuorumAuthTokenBytes.
ParseStatus DecodeQuorumAuthPacket(std::string_view in, QuorumAuthPacket* out, size_t* consumed);
// QuorumAuth.nextPacketIsAuth: kOk when the first 8 bytes are the magic,
// kBad when they are not, kNeedMore with fewer than 8 bytes.
ParseStatus PeekQuorumAuth(std::string_view in);

// ---- election port ----

// The handshake as startConnection writes it: long protocolVersion, long
// sid, int length, "host:port" joined by '|' (V2) or a single one (V1).
// The legacy form (protocol_version >= 0) is the bare sid alone.
void EncodeInitialMessage(const InitialMessage& m, std::string* out);
// As QuorumCnxManager.handleConnection + InitialMessage.parse: a first long
// >= 0 is a legacy bare sid (8 bytes consumed); otherwise the version must be
// V1 or V2, the length in [1, 2048] and each address "host:port",
// "[v6]:port" or "v6:port" with a numeric port. Wildcard hosts (0.0.0.0,
// ::) are dropped as ZooKeeper drops them.
ParseStatus DecodeInitialMessage(std::string_view in, InitialMessage* out, size_t* consumed);

// The message body (no length prefix) as FastLeaderElection.buildMsg writes
// it: int state, long leader, long zxid, long electionEpoch, long peerEpoch,
// int version, and for version >= 2: int configLength, config bytes.
// Version 1 writes the 40-byte form, version 0 the 28-byte pre-ZK-107 form.
void EncodeNotification(const Notification& n, std::string* out);
std::string EncodeNotification(const Notification& n);
// The same preceded by its int32 length, as SendWorker writes it.
void EncodeNotificationFrame(const Notification& n, std::string* out);
// As FastLeaderElection.WorkerReceiver reads a body: < 28 bytes bad; exactly
// 28: no peer epoch (taken from the zxid), version 0; exactly 40: version 0
// (the trailing int is ignored); otherwise version is read and, when > 1, a
// config of length 0..size follows (trailing bytes ignored). An unknown state
// (not 0..3) is bad: ZooKeeper skips such a message.
std::optional<Notification> DecodeNotification(std::string_view body);

// ---- QuorumPacket payloads ----

// FOLLOWERINFO / OBSERVERINFO data: jute LearnerInfo (long, int, long).
std::string EncodeLearnerInfo(const LearnerInfo& li);
// Lenient as LearnerHandler: >= 8 bytes give the sid, >= 12 the protocol
// version (else 0x1), >= 20 the config version (else 0). Shorter: nullopt
// (null data — ZooKeeper then numbers the learner itself — is the caller's).
std::optional<LearnerInfo> DecodeLearnerInfo(std::string_view data);

// LEADERINFO data: int protocol version. ACKEPOCH data: int current epoch
// (-1: "already accepted this epoch, do not count me").
std::string EncodeInt32(int32_t v);
std::optional<int32_t> DecodeInt32(std::string_view data);  // first 4 bytes
std::string EncodeInt64(int64_t v);
std::optional<int64_t> DecodeInt64(std::string_view data);  // first 8 bytes
inline std::string EncodeLeaderInfo(int32_t protocol_version) { return EncodeInt32(protocol_version); }
inline std::optional<int32_t> DecodeLeaderInfo(std::string_view d) { return DecodeInt32(d); }
inline std::string EncodeAckEpoch(int32_t current_epoch) { return EncodeInt32(current_epoch); }
inline std::optional<int32_t> DecodeAckEpoch(std::string_view d) { return DecodeInt32(d); }

// REQUEST data.
std::string EncodeForwardedRequest(const ForwardedRequest& r);
std::optional<ForwardedRequest> DecodeForwardedRequest(std::string_view data);

// PING data from a learner: zero or more (long sessionId, int timeout).
// A trailing partial entry is bad (ZooKeeper's reader fails on it).
std::string EncodeSessionTouches(const std::vector<SessionTouch>& touches);
std::optional<std::vector<SessionTouch>> DecodeSessionTouches(std::string_view data);

// REVALIDATE data, both directions.
std::string EncodeRevalidateRequest(const RevalidateRequest& r);
std::optional<RevalidateRequest> DecodeRevalidateRequest(std::string_view data);
std::string EncodeRevalidateReply(const RevalidateReply& r);
std::optional<RevalidateReply> DecodeRevalidateReply(std::string_view data);

// COMMITANDACTIVATE data: long designated leader.
inline std::string EncodeCommitAndActivate(ServerId leader) { return EncodeInt64(leader); }
inline std::optional<ServerId> DecodeCommitAndActivate(std::string_view d) { return DecodeInt64(d); }
// INFORMANDACTIVATE data: long designated leader, then the proposal's data.
struct InformAndActivate {
  ServerId designated_leader = 0;
  std::string proposal;  // txn bytes as in PROPOSAL data
  bool operator==(const InformAndActivate&) const = default;
};
std::string EncodeInformAndActivate(const InformAndActivate& m);
std::optional<InformAndActivate> DecodeInformAndActivate(std::string_view data);
// NEWLEADER data (protocol >= 0x10000) is the quorum verifier's text as is;
// for older learners it is null. No codec needed beyond QuorumPacket.data.

// The SNAP trailer: jute string kSnapSignature.
void EncodeSnapSignature(std::string* out);

}  // namespace aviary::quorum
