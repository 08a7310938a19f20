// Shared helpers for the storage unit tests: a temp directory removed on
// destruction, and a Workload that prepares realistic txns (txn::Preparer),
// applies them to a live tree, logs them to a Wal and tracks live sessions.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "storage/bytes.h"
#include "storage/crc32c.h"
#include "storage/recovery.h"
#include "storage/snapshot.h"
#include "storage/snapshot_node.h"
#include "storage/wal.h"
#include "tree/data_tree.h"
#include "txn/apply.h"
#include "txn/prepare.h"

namespace aviary::storage::testing {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = "/tmp/aviary_storage_XXXXXX";
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// A file's length (-1 if it is not there).
inline int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
}

// Polls pred every 5 ms, up to tries times (10 s): for what a worker thread does.
inline bool WaitFor(const std::function<bool()>& pred, int tries = 2000) {
  for (int i = 0; i < tries; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return pred();
}

// Recovers t from the snapshots and log segments in dir.
inline RecoveryResult RecoverInto(const std::string& dir, tree::DataTree* t) {
  RecoveryOptions o;
  o.snap_dir = dir;
  o.log_dir = dir;
  return Recover(o, t);
}

inline proto::AclList OpenAcl() { return {proto::Acl{proto::perms::kAll, proto::Id{"world", "anyone"}}}; }

inline std::string ReadAll(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  std::string s;
  if (f == nullptr) return s;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  fclose(f);
  return s;
}
inline void WriteAll(const std::string& path, const std::string& s) {
  FILE* f = fopen(path.c_str(), "wb");
  fwrite(s.data(), 1, s.size(), f);
  fclose(f);
}

struct Workload {
  tree::DataTree tree;
  txn::Preparer prep;
  int64_t zxid = 0;
  int64_t now = 1000;
  std::map<int64_t, int32_t> sessions;
  Wal* wal = nullptr;
  SnapshotBuilder* building = nullptr;  // a fuzzy snapshot in progress (as the core tells it)
  std::mt19937_64 rng;

  explicit Workload(uint64_t seed) : prep(tree, Opts()), rng(seed) {}
  static txn::PrepareOptions Opts() {
    txn::PrepareOptions o;
    o.extended_types_enabled = true;
    return o;
  }

  void Commit(const txn::Txn& t) {
    if (wal != nullptr) {
      std::string err;
      ASSERT_TRUE(wal->Append(t, &err)) << err;
    }
    if (building != nullptr && t.type == proto::OpCode::kCloseSession) {
      building->NoteSwept(t.zxid, tree.EphemeralsOf(t.session_id));
    }
    txn::Apply(tree, t);
    prep.Applied(t.zxid);
    if (t.type == proto::OpCode::kCreateSession)
      sessions[t.session_id] = std::get<txn::CreateSessionTxn>(t.op.body).timeout_ms;
    if (t.type == proto::OpCode::kCloseSession) sessions.erase(t.session_id);
  }
  txn::SessionCtx Ctx(int64_t session) {
    txn::SessionCtx c;
    c.session_id = session;
    c.ids.push_back(proto::Id{"ip", "127.0.0.1"});
    return c;
  }
  void Run(const proto::Request& r, int64_t session = 0) { Commit(prep.Prepare(r, Ctx(session), ++zxid, ++now)); }

  std::vector<SessionRecord> SessionList() const {
    std::vector<SessionRecord> v;
    for (const auto& [id, t] : sessions) v.push_back({id, t});
    return v;
  }
  size_t Pick(size_t n) { return static_cast<size_t>(rng() % n); }
  std::vector<std::string> UserPaths(bool leaves_only) {
    std::vector<std::string> out;
    tree.ForEach([&](const std::string& p, const tree::Node& n) {
      if (p == "/" || p.rfind("/zookeeper", 0) == 0) return;
      if (!leaves_only || n.children().empty()) out.push_back(p);
    });
    std::sort(out.begin(), out.end());
    return out;
  }
  std::string RandomParent() {
    std::vector<std::string> all = UserPaths(false);
    if (all.empty() || Pick(4) == 0) return "";
    const std::string p = all[Pick(all.size())];
    const tree::Node* n = tree.Find(p);
    if (n->kind == tree::NodeKind::kEphemeral || std::count(p.begin(), p.end(), '/') >= 4) return "";
    return p;
  }
  std::string Name() { return std::string(1, static_cast<char>('a' + Pick(4))); }
  int64_t RandomSession() {
    if (sessions.empty()) return 0;
    auto it = sessions.begin();
    std::advance(it, static_cast<long>(Pick(sessions.size())));
    return it->first;
  }

  static proto::Request Req(proto::OpCode op, proto::RequestBody body) {
    proto::Request r;
    r.header.type = static_cast<int32_t>(op);
    r.body = std::move(body);
    return r;
  }

  // One random write (every kind of txn the server logs).
  void RandomOp() {
    const size_t k = Pick(100);
    const std::string data(Pick(3) == 0 ? 0 : Pick(40), static_cast<char>('x' + Pick(3)));
    if (k < 4) {
      const int64_t s = 0x1000 + static_cast<int64_t>(zxid);
      Commit(prep.PrepareCreateSession(s, 2000 + static_cast<int32_t>(Pick(8000)), ++zxid, ++now));
    } else if (k < 7) {
      const int64_t s = RandomSession();
      if (s != 0) Commit(prep.PrepareCloseSession(s, ++zxid, ++now));
    } else if (k < 40) {
      const int32_t flags = static_cast<int32_t>(Pick(4));  // persistent/ephemeral/sequential
      const int64_t s = (flags & 1) != 0 ? RandomSession() : 0;
      if ((flags & 1) != 0 && s == 0) return;
      proto::CreateRequest c{RandomParent() + "/" + Name(), data, OpenAcl(), flags, -1};
      if (Pick(5) == 0) c.data_null = true;
      Run(Req(Pick(2) == 0 ? proto::OpCode::kCreate : proto::OpCode::kCreate2, c), s);
    } else if (k < 45) {
      Run(Req(proto::OpCode::kCreateContainer,
              proto::CreateRequest{RandomParent() + "/" + Name(), data, OpenAcl(), 4, -1}));
    } else if (k < 48) {
      Run(Req(proto::OpCode::kCreateTtl,
              proto::CreateRequest{RandomParent() + "/" + Name(), data, OpenAcl(), 5, 5000}));
    } else if (k < 68) {
      std::vector<std::string> leaves = UserPaths(true);
      if (!leaves.empty()) Run(Req(proto::OpCode::kDelete, proto::DeleteRequest{leaves[Pick(leaves.size())], -1}));
    } else if (k < 82) {
      std::vector<std::string> all = UserPaths(false);
      if (!all.empty()) Run(Req(proto::OpCode::kSetData, proto::SetDataRequest{all[Pick(all.size())], data, -1}));
    } else if (k < 86) {
      std::vector<std::string> all = UserPaths(false);
      proto::AclList acl = OpenAcl();
      acl.push_back(proto::Acl{proto::perms::kRead, proto::Id{"ip", "10.0.0." + std::to_string(Pick(3))}});
      if (!all.empty()) Run(Req(proto::OpCode::kSetAcl, proto::SetAclRequest{all[Pick(all.size())], acl, -1}));
    } else if (k < 88) {
      for (const std::string& p : tree.CleanupCandidates(now + 100000)) {
        Commit(prep.PrepareDeleteContainer(p, ++zxid, ++now));
      }
    } else {
      MultiReplace(data);
    }
  }

  // multi: delete a subtree's leaf and its parent, re-create both (the
  // re-created-incarnation case), or a failing multi.
  void MultiReplace(const std::string& data) {
    std::vector<std::string> leaves = UserPaths(true);
    proto::MultiRequest m;
    if (!leaves.empty() && Pick(4) != 0) {
      const std::string leaf = leaves[Pick(leaves.size())];
      const std::string parent = leaf.substr(0, leaf.rfind('/'));
      const tree::Node* pn = parent.empty() ? nullptr : tree.Find(parent);
      m.ops.push_back({proto::OpCode::kDelete, proto::DeleteRequest{leaf, -1}});
      if (pn != nullptr && pn->children().size() == 1 && pn->kind != tree::NodeKind::kContainer) {
        m.ops.push_back({proto::OpCode::kDelete, proto::DeleteRequest{parent, -1}});
        m.ops.push_back({proto::OpCode::kCreate, proto::CreateRequest{parent, data, OpenAcl(), 0, -1}});
      }
      m.ops.push_back({proto::OpCode::kCreate2, proto::CreateRequest{leaf, data, OpenAcl(), 0, -1}});
      m.ops.push_back({proto::OpCode::kSetData, proto::SetDataRequest{leaf, data + "m", -1}});
    } else {
      m.ops.push_back({proto::OpCode::kCreate, proto::CreateRequest{"/" + Name(), data, OpenAcl(), 0, -1}});
      m.ops.push_back({proto::OpCode::kCheck, proto::CheckVersionRequest{"/nonexistent", 3}});
    }
    Run(Req(proto::OpCode::kMulti, m));
  }
};

// The previous writer's format 2 (and 1, without 'D' records): one stream,
// 'N' records with full paths and ACLs, whole-file CRC in a 21-byte trailer.
inline std::string BuildV2Snapshot(const tree::DataTree& t, int64_t zxid, const std::vector<SessionRecord>& sessions,
                                   uint32_t version) {
  std::string f(kSnapMagic, sizeof(kSnapMagic));
  bytes::PutU32(&f, version);
  bytes::PutU32(&f, 0);
  bytes::PutU64(&f, static_cast<uint64_t>(zxid));
  bytes::PutU32(&f, static_cast<uint32_t>(sessions.size()));
  for (const SessionRecord& s : sessions) {
    bytes::PutU64(&f, static_cast<uint64_t>(s.id));
    bytes::PutU32(&f, static_cast<uint32_t>(s.timeout_ms));
  }
  uint64_t count = 0;
  std::vector<std::string> todo{"/"};  // pre-order: parents first
  while (!todo.empty()) {
    const std::string path = todo.back();
    todo.pop_back();
    const tree::Node& n = *t.Find(path);
    f.push_back(kSnapNodeTag);
    const size_t at = f.size();
    f.append(4, '\0');
    snapnode::EncodeBody(path, n, t.AclOf(n), &f);
    bytes::SetU32(&f[at], static_cast<uint32_t>(f.size() - at - 4));
    ++count;
    for (auto it = n.children().rbegin(); it != n.children().rend(); ++it) {
      todo.push_back((path == "/" ? "" : path) + "/" + std::string(*it));
    }
  }
  f.push_back(kSnapEndTag);
  f.append(kSnapTrailerMagic, sizeof(kSnapTrailerMagic));
  bytes::PutU64(&f, count);
  bytes::PutU32(&f, Crc32c(0, f.data(), f.size()));
  return f;
}

}  // namespace aviary::storage::testing
