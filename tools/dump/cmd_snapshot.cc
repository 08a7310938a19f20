// snapshot FILE [--json]: header, sessions and every node of a snapshot.
#include <fmt/core.h>

#include <cstdio>

#include "commands.h"
#include "storage/snapshot_reader.h"
#include "txn_format.h"

namespace aviary::dump {
namespace {

const char* KindName(tree::NodeKind k) {
  switch (k) {
    case tree::NodeKind::kPersistent:
      return "persistent";
    case tree::NodeKind::kEphemeral:
      return "ephemeral";
    case tree::NodeKind::kContainer:
      return "container";
    case tree::NodeKind::kTtl:
      return "ttl";
  }
  return "?";
}

std::string AclText(const proto::AclList& acl, bool json) {
  std::string out;
  for (const auto& e : acl) {
    if (!out.empty()) out += json ? "," : ";";
    out += json ? fmt::format("{{\"perms\":{},\"scheme\":{},\"id\":{}}}", e.perms, JsonString(e.id.scheme),
                              JsonString(e.id.id))
                : fmt::format("{}:{}:{}", e.id.scheme, e.id.id, e.perms);
  }
  return json ? "[" + out + "]" : out;
}

std::string NodeLine(const storage::SnapshotNode& n, bool json) {
  const tree::StatPersisted s = n.node.persisted();
  const std::string_view bytes = n.node.data;
  std::string data = bytes.size() <= 64 ? std::string(bytes) : std::string(bytes.substr(0, 64)) + "...";
  int64_t len = n.node.data_null ? -1 : static_cast<int64_t>(n.node.data.size());
  if (json) {
    return fmt::format(
        "{{\"path\":{},\"kind\":\"{}\",\"czxid\":{},\"mzxid\":{},\"pzxid\":{},\"ctime\":{},\"mtime\":{},"
        "\"version\":{},\"cversion\":{},\"aversion\":{},\"ephemeral_owner\":{},\"ttl_ms\":{},\"data_len\":{},"
        "\"data\":{},\"acl\":{}}}",
        JsonString(n.path), KindName(n.node.kind), s.czxid, s.mzxid, s.pzxid, s.ctime, s.mtime, s.version, s.cversion,
        s.aversion, s.ephemeral_owner, n.node.ttl_ms(), len, JsonString(data), AclText(n.acl, true));
  }
  return fmt::format(
      "{} kind={} czxid={} mzxid={} pzxid={} version={} cversion={} aversion={} owner={} data_len={} "
      "data={} acl={}",
      n.path, KindName(n.node.kind), Hex(s.czxid), Hex(s.mzxid), Hex(s.pzxid), s.version, s.cversion, s.aversion,
      Hex(s.ephemeral_owner), len, JsonString(data), AclText(n.acl, false));
}

}  // namespace

int CmdSnapshot(const Args& a) {
  if (a.positional.size() != 1) {
    std::fprintf(stderr, "usage: aviary-dump snapshot FILE [--json]\n");
    return 2;
  }
  const std::string& path = a.positional[0];
  storage::SnapshotReader r;
  std::string err;
  if (!r.Open(path, &err)) {
    std::fprintf(stderr, "aviary-dump: %s\n", err.c_str());
    return 1;
  }
  const auto& h = r.header();
  if (a.json) {
    std::printf("{\"snapshot\":%s,\"version\":%u,\"zxid\":%lld,\"sessions\":%zu}\n", JsonString(path).c_str(),
                h.version, static_cast<long long>(h.zxid), h.sessions.size());
    for (const auto& s : h.sessions) {
      std::printf("{\"session\":%lld,\"timeout_ms\":%d}\n", static_cast<long long>(s.id), s.timeout_ms);
    }
  } else {
    std::printf("snapshot %s: format version %u, zxid %s, %zu sessions\n", path.c_str(), h.version, Hex(h.zxid).c_str(),
                h.sessions.size());
    for (const auto& s : h.sessions) std::printf("session %s timeout %d ms\n", Hex(s.id).c_str(), s.timeout_ms);
  }
  storage::SnapshotNode n;
  while (r.Next(&n)) std::printf("%s\n", NodeLine(n, a.json).c_str());
  bool ok = r.done() && r.error().empty();
  if (a.json) {
    std::printf("{\"end\":\"%s\",\"nodes\":%llu,\"error\":%s}\n", ok ? "ok" : "corrupt",
                static_cast<unsigned long long>(r.nodes_read()), JsonString(r.error()).c_str());
  } else {
    std::printf("end: %s, %llu nodes\n", ok ? "ok (count and checksum match)" : "CORRUPT",
                static_cast<unsigned long long>(r.nodes_read()));
  }
  if (!ok) {
    std::fprintf(stderr, "aviary-dump: %s\n",
                 r.error().empty() ? (path + ": truncated (no trailer)").c_str() : r.error().c_str());
    return 1;
  }
  return 0;
}

}  // namespace aviary::dump
