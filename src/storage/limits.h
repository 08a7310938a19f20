// Size limits of what Aviary writes to disk, one set derived from
// jute.maxbuffer, shared by the preparer (through the server), the WAL
// writer, the WAL reader and the snapshot reader. Pure constants.
//
//  - A logged txn's payload may take up to MaxTxnBytes(jute.maxbuffer):
//    twice jute.maxbuffer, as ZooKeeper reads a logged txn of up to
//    jute.maxbuffer + zookeeper.jute.maxbuffer.extrasize (whose default is
//    jute.maxbuffer again). Prepare turns a request whose txn would be larger
//    into an error txn (BADARGUMENTS); the WAL writer refuses the same bound,
//    so it never meets a txn it must refuse.
//  - Readers accept up to kMaxRecordBytes, whatever jute.maxbuffer is now, so
//    lowering jute.maxbuffer never makes existing files unreadable.
//    MaxTxnBytes never exceeds it (a jute.maxbuffer above
//    kMaxJuteMaxBufferBytes gives no larger txns).
//  - A snapshot node record holds one node (path, data, ACL, stat), each part
//    of which came from a txn within MaxTxnBytes: same ceiling.
#pragma once

#include <algorithm>
#include <cstdint>

namespace aviary::storage {

// ZooKeeper's zookeeper.jute.maxbuffer.extrasize default: jute.maxbuffer.
inline constexpr int64_t kTxnBytesPerMaxBuffer = 2;
// The encoding's fixed parts (txn header, the multi's unused top-level op)
// on top of the ops; prepare budgets the ops to MaxTxnBytes - this.
inline constexpr int64_t kTxnFixedBytes = 1024;
// The largest jute.maxbuffer whose txns all fit in a record.
inline constexpr int64_t kMaxJuteMaxBufferBytes = 128 << 20;
// Any log record payload or snapshot node record, on read.
inline constexpr uint32_t kMaxRecordBytes =
    static_cast<uint32_t>(kTxnBytesPerMaxBuffer * kMaxJuteMaxBufferBytes + kTxnFixedBytes);

// The largest txn payload the log takes for this jute.maxbuffer.
constexpr uint32_t MaxTxnBytes(int64_t jute_max_buffer) {
  const int64_t mb = std::clamp<int64_t>(jute_max_buffer, 1, kMaxJuteMaxBufferBytes);
  return static_cast<uint32_t>(kTxnBytesPerMaxBuffer * mb + kTxnFixedBytes);
}
// What prepare lets the ops of one txn take (MaxTxnBytes minus the fixed part).
constexpr int64_t MaxTxnOpsBytes(int64_t jute_max_buffer) { return MaxTxnBytes(jute_max_buffer) - kTxnFixedBytes; }

static_assert(MaxTxnBytes(INT32_MAX) == kMaxRecordBytes);

}  // namespace aviary::storage
