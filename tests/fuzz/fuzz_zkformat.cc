// libFuzzer target for the ZooKeeper-format decoders a server feeds with
// another server's bytes (src/zkformat): a txn as carried by PROPOSAL /
// INFORM / DIFF, and the SNAP section (snapshot body + signature) a learner
// reads from its leader. The first input byte picks the decoder.
//  - txn: whatever decodes re-encodes, and the re-encoding decodes and
//    re-encodes to the same bytes;
//  - SNAP: fed in chunks whose sizes come from the input, into a fresh tree;
//    it must end in kNeedMore, kDone or kError, never crash; a body that
//    loads is written back by WriteSnapshotBody, and that loads again to a
//    tree with the same number of nodes and sessions.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "zkformat/snapshot.h"
#include "zkformat/txn_codec.h"

namespace {

using namespace aviary;

void Check(bool cond, const char* what) {
  if (!cond) {
    std::fprintf(stderr, "fuzz_zkformat invariant failed: %s\n", what);
    std::abort();
  }
}

void FuzzTxn(std::string_view in) {
  zkformat::ZkTxn t;
  std::string err;
  if (!zkformat::DecodeZkTxn(in, &t, &err)) return;
  std::string e1;
  if (!zkformat::EncodeZkTxn(t, &e1, &err)) return;  // some decodable txns have no form we write
  zkformat::ZkTxn back;
  Check(zkformat::DecodeZkTxn(e1, &back, &err), "txn re-decodes");
  std::string e2;
  Check(zkformat::EncodeZkTxn(back, &e2, &err), "txn re-encodes");
  Check(e1 == e2, "txn encoding is canonical after one pass");
}

// Feeds `in` to a fresh SnapSectionReader in chunks; returns its status.
zkformat::SnapshotLoader::Status LoadSnap(std::string_view in, tree::DataTree* tree,
                                          std::vector<storage::SessionRecord>* sessions, size_t chunk_seed) {
  zkformat::SnapSectionReader reader(tree);
  std::string pending;
  size_t pos = 0;
  auto status = zkformat::SnapshotLoader::Status::kNeedMore;
  while (pos < in.size() && status == zkformat::SnapshotLoader::Status::kNeedMore) {
    size_t chunk = std::min(in.size() - pos, 1 + (chunk_seed + pos) % 97);
    pending.append(in.substr(pos, chunk));
    pos += chunk;
    size_t consumed = 0;
    status = reader.Feed(pending, &consumed);
    Check(consumed <= pending.size(), "snap reader consumed within input");
    pending.erase(0, consumed);
  }
  *sessions = reader.loader().sessions();
  return status;
}

void FuzzSnap(std::string_view in) {
  tree::DataTree tree;
  std::vector<storage::SessionRecord> sessions;
  size_t seed = in.empty() ? 0 : static_cast<uint8_t>(in[0]);
  if (LoadSnap(in, &tree, &sessions, seed) != zkformat::SnapshotLoader::Status::kDone) return;
  std::string body;
  zkformat::WriteSnapshotBody(tree, sessions, [&](std::string_view piece) {
    body.append(piece);
    return true;
  });
  zkformat::WriteSnapSignature(&body);
  tree::DataTree again;
  std::vector<storage::SessionRecord> sessions_again;
  Check(LoadSnap(body, &again, &sessions_again, 7) == zkformat::SnapshotLoader::Status::kDone,
        "a written snapshot loads");
  Check(again.NodeCount() == tree.NodeCount(), "node count survives");
  Check(sessions_again.size() == sessions.size(), "session count survives");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    FuzzTxn(in);
  } else {
    FuzzSnap(in);
  }
  return 0;
}
