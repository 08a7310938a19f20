// Test driver for tests/zkformat/test_zkformat.py: runs our zkformat code
// on the files of a real Apache ZooKeeper and prints what the Python test
// compares with what ZooKeeper and kazoo saw.
//   zkformat_check logs ZK_DATADIR
//       every txn of every log: decode, re-encode (must be byte-identical),
//       apply to a fresh tree and compare our digest with the logged one;
//       prints a JSON summary; exit 1 on the first difference.
//   zkformat_check snapshot FILE
//       loads a ZooKeeper snapshot; prints sessions and every node (data,
//       client-visible Stat, ACL) as JSON.
//   zkformat_check write-snapshot ZK_DATADIR OUT_DATADIR
//       loads ZK_DATADIR as ZooKeeper would and writes it back as a
//       ZooKeeper snapshot with our writer into OUT_DATADIR/version-2.
//   zkformat_check aviary-to-zk AVIARY_DATALOGDIR OUT_DATADIR
//       Aviary's whole log (from zxid 1) as a ZooKeeper leader would send
//       it: each txn encoded by us, closeSession paths filled, our digest
//       appended; written as ZooKeeper's log.1 beside a snapshot.0 of the
//       empty tree, so a real ZooKeeper replays (and digest-checks) them.
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "storage/layout.h"
#include "storage/wal_reader.h"
#include "txn/apply.h"
#include "zkformat/digest.h"
#include "zkformat/digest_predict.h"
#include "zkformat/files.h"
#include "zkformat/import.h"
#include "zkformat/txn_codec.h"

namespace {

using namespace aviary;

std::string Json(std::string_view s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o + "\"";
}

std::string Hex(std::string_view s) {
  std::string o;
  char b[4];
  for (char c : s) {
    std::snprintf(b, sizeof b, "%02x", static_cast<unsigned char>(c));
    o += b;
  }
  return o;
}

int Fail(const std::string& msg) {
  std::fprintf(stderr, "zkformat_check: %s\n", msg.c_str());
  return 1;
}

int Logs(const std::string& dir) {
  std::string vdir = zkformat::ZkVersionDir(dir);
  std::map<int64_t, std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(vdir)) {
    std::string name = e.path().filename();
    if (name.rfind("log.", 0) == 0) files[std::stoll(name.substr(4), nullptr, 16)] = e.path();
  }
  tree::DataTree tree;
  size_t txns = 0, digests = 0;
  std::set<int> types, sub_types;
  for (const auto& [zxid, path] : files) {
    zkformat::ZkLog log;
    std::string error;
    if (!zkformat::ReadZkLogFile(path, &log, &error)) return Fail(error);
    for (const zkformat::ZkLogRecord& r : log.records) {
      zkformat::ZkTxn z;
      std::string again;
      std::string at = path + " offset " + std::to_string(r.offset);
      if (!zkformat::DecodeZkTxn(r.bytes, &z, &error)) return Fail(at + ": " + error);
      if (!zkformat::EncodeZkTxn(z, &again, &error)) return Fail(at + ": " + error);
      if (again != r.bytes) return Fail(at + ": re-encoded bytes differ");
      txn::Apply(tree, z.txn);
      ++txns;
      types.insert(static_cast<int>(z.txn.type));
      for (const txn::Op& op : z.txn.multi) sub_types.insert(static_cast<int>(op.type));
      if (!z.digest) continue;
      int64_t ours = zkformat::TreeDigestOf(tree);
      if (ours != z.digest->tree_digest) {
        return Fail(at + ": digest " + std::to_string(ours) + " != ZooKeeper's " +
                    std::to_string(z.digest->tree_digest));
      }
      ++digests;
    }
  }
  auto list = [](const std::set<int>& s) {
    std::string o = "[";
    for (int t : s) o += (o.size() > 1 ? "," : "") + std::to_string(t);
    return o + "]";
  };
  std::printf("{\"txns\": %zu, \"digests\": %zu, \"types\": %s, \"sub_types\": %s}\n", txns, digests,
              list(types).c_str(), list(sub_types).c_str());
  return 0;
}

int Snapshot(const std::string& file) {
  tree::DataTree tree;
  zkformat::ZkSnapshot info;
  std::string error;
  if (!zkformat::ReadZkSnapshotFile(file, &tree, &info, &error)) return Fail(error);
  std::printf("{\"sessions\": {");
  for (size_t i = 0; i < info.sessions.size(); ++i) {
    std::printf("%s\"%lld\": %d", i ? ", " : "", static_cast<long long>(info.sessions[i].id),
                info.sessions[i].timeout_ms);
  }
  std::printf(
      "}, \"has_digest\": %s, \"digest_ok\": %s, \"nodes\": {", info.digest ? "true" : "false",
      !info.digest || info.digest->digest == zkformat::TreeDigestOf(tree) || info.digest->zxid == 0 ? "true" : "false");
  bool first = true;
  std::map<std::string, const tree::Node*> sorted;
  tree.ForEach([&](const std::string& p, const tree::Node& n) { sorted[p] = &n; });
  for (const auto& [path, n] : sorted) {
    proto::Stat s = tree::ToStat(*n);
    std::string acl = "[";
    for (const proto::Acl& a : tree.AclOf(*n)) {
      acl += (acl.size() > 1 ? ", " : "") +
             ("[" + std::to_string(a.perms) + ", " + Json(a.id.scheme) + ", " + Json(a.id.id) + "]");
    }
    acl += "]";
    std::printf(
        "%s\n%s: {\"data\": %s, \"acl\": %s, \"stat\": {\"czxid\": %lld, \"mzxid\": %lld, \"ctime\": %lld, "
        "\"mtime\": %lld, \"version\": %d, \"cversion\": %d, \"aversion\": %d, \"ephemeralOwner\": %lld, "
        "\"dataLength\": %d, \"numChildren\": %d, \"pzxid\": %lld}}",
        first ? "" : ",", Json(path).c_str(), n->data_null ? "null" : Json(Hex(n->data)).c_str(), acl.c_str(),
        static_cast<long long>(s.czxid), static_cast<long long>(s.mzxid), static_cast<long long>(s.ctime),
        static_cast<long long>(s.mtime), s.version, s.cversion, s.aversion, static_cast<long long>(s.ephemeralOwner),
        s.dataLength, s.numChildren, static_cast<long long>(s.pzxid));
    first = false;
  }
  std::printf("}}\n");
  return 0;
}

int WriteSnapshot(const std::string& zk, const std::string& out) {
  tree::DataTree tree;
  zkformat::ZkLoaded l;
  std::string error;
  if (!zkformat::LoadZooKeeper(zk, zk, &tree, &l, &error)) return Fail(error);
  std::vector<storage::SessionRecord> sessions;
  for (const auto& [id, t] : l.sessions) sessions.push_back({id, t});
  if (!zkformat::WriteZkSnapshotFile(zkformat::ZkVersionDir(out), l.last_zxid, tree, sessions, &error)) {
    return Fail(error);
  }
  std::printf("{\"zxid\": %lld, \"digest\": %lld}\n", static_cast<long long>(l.last_zxid),
              static_cast<long long>(zkformat::TreeDigestOf(tree)));
  return 0;
}

int AviaryToZk(const std::string& aviary, const std::string& out) {
  tree::DataTree tree;
  zkformat::DigestTracker tracker;
  tracker.Reset(tree);
  std::vector<std::string> txns;
  std::string error;
  int64_t prev = 0;
  for (const storage::FileEntry& seg : storage::ListSegments(aviary)) {
    storage::SegmentReader r;
    if (!r.Open(seg.path, &error)) return Fail(error);
    storage::SegmentRecord rec;
    while (r.Next(&rec)) {
      if (rec.txn.zxid != prev + 1) return Fail("zxid gap before " + std::to_string(rec.txn.zxid));
      prev = rec.txn.zxid;
      zkformat::ZkTxn z;
      z.txn = rec.txn;
      zkformat::FillClosePaths(tree, &z.txn);
      // The leader's way: predicted before apply; checked against the tree after.
      int64_t predicted = zkformat::PredictDigest(
          tracker.value(), [&](std::string_view p) { return tree.Find(p); }, z.txn);
      tracker.Before(tree, z.txn);
      txn::Apply(tree, z.txn);
      tracker.After(tree);
      if (predicted != tracker.value()) return Fail("predicted digest differs at zxid " + std::to_string(prev));
      if (z.txn.type != proto::OpCode::kError) z.digest = zkformat::TxnDigest{zkformat::kDigestVersion, predicted};
      std::string bytes;
      if (!zkformat::EncodeZkTxn(z, &bytes, &error)) return Fail(seg.path + ": " + error);
      txns.push_back(std::move(bytes));
    }
  }
  tree::DataTree empty;
  std::string vdir = zkformat::ZkVersionDir(out);
  if (!zkformat::WriteZkSnapshotFile(vdir, 0, empty, {}, &error)) return Fail(error);
  if (!txns.empty() && !zkformat::WriteZkLogFile(vdir, 1, txns, &error)) return Fail(error);
  std::printf("{\"txns\": %zu, \"last_zxid\": %lld, \"digest\": %lld}\n", txns.size(), static_cast<long long>(prev),
              static_cast<long long>(tracker.value()));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string cmd = argc > 1 ? argv[1] : "";
  if (cmd == "logs" && argc == 3) return Logs(argv[2]);
  if (cmd == "snapshot" && argc == 3) return Snapshot(argv[2]);
  if (cmd == "write-snapshot" && argc == 4) return WriteSnapshot(argv[2], argv[3]);
  if (cmd == "aviary-to-zk" && argc == 4) return AviaryToZk(argv[2], argv[3]);
  std::fprintf(stderr, "usage: zkformat_check logs DIR | snapshot FILE | write-snapshot ZKDIR OUTDIR\n");
  return 2;
}
