// What one AdminServer command needs from the server, and what it answers:
// the request as the HTTP layer parsed it (AdminRequest), the plain data the
// server fills on its core thread (CommandResult: the four-letter words'
// ServerSnapshot plus AdminExtras, the parts only the HTTP commands show),
// and the interface the server implements to run a command (AdminBackend).
//
// Owns: plain values only. Thread use: built on the core thread, read on an
// HTTP thread after it was handed over (a promise); never shared while
// being written.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "admin/server_snapshot.h"
#include "adminserver/commands.h"

namespace aviary::adminserver {

struct AdminRequest {
  const CommandSpec* spec = nullptr;
  bool post = false;
  std::map<std::string, std::string> params;  // query parameters (first value of each)
  std::string authorization;                  // the Authorization header; empty: none
  std::string remote_ip;
  // HTTPS: the client certificate's subject (X500Principal.getName()) when
  // the AdminServer's trust store verified one; empty otherwise.
  std::string x509_subject;
  // POST: reads the request body into *out (at most HttpOptions'
  // max_body_bytes); false when it is too large or the client failed. The
  // backend reads it only after the caller is authenticated and authorized,
  // so an anonymous caller cannot make the server hold a large body.
  std::function<bool(std::string* out)> read_body;
};

// The ensemble part (leader, voting_view, zabstate): QuorumPeer's view.
struct EnsembleInfo {
  bool quorum = false;  // false: standalone
  int64_t my_id = 0;
  bool is_leader = false;
  int64_t leader_id = -1;
  std::string leader_ip;  // "" when there is no leader
  bool voting = false;
  std::string zab_state;  // ZooKeeper's ZabState in lower case: election, discovery, synchronization, broadcast
  struct Member {
    int64_t id = 0;
    std::vector<std::string> server_addresses;    // "host:port"
    std::vector<std::string> election_addresses;  // "host:port"
    std::string client_address;                   // "host:port" or ""
    bool observer = false;
  };
  std::vector<Member> members;                  // every server.N line
  std::vector<std::string> quorum_addresses;    // this server's, "host:port"
  std::vector<std::string> election_addresses;  // this server's
  std::string client_address;                   // this server's
};

struct AdminExtras {
  std::vector<std::pair<int64_t, std::vector<int64_t>>> expiry_to_sessions;      // dump
  std::vector<std::pair<int64_t, std::vector<std::string>>> session_ephemerals;  // dump
  std::vector<std::pair<int64_t, std::vector<std::string>>> watches_by_session;  // watches (data watches)
  std::vector<std::pair<std::string, std::vector<int64_t>>> watches_by_path;     // watches_by_path
  struct Digest {
    int64_t zxid = 0;
    int64_t digest = 0;
    int32_t version = 2;
  };
  std::vector<Digest> digests;  // hash
  int64_t last_snapshot_zxid = -1;
  int64_t last_snapshot_time_s = -1;
  std::string initial_configuration;
  EnsembleInfo ensemble;
  int64_t trace_mask = 306;  // ZooTrace's default text trace mask
  int64_t restored_zxid = -1;
};

struct CommandResult {
  int status = 200;
  std::optional<std::string> error;  // JSON null when absent
  admin::ServerSnapshot snap;
  AdminExtras extras;
  std::vector<std::pair<std::string, std::string>> headers;
  // Non-empty: the response body is this file (application/octet-stream),
  // which is deleted once sent (and its directory, when that is empty).
  std::string stream_file;
};

class AdminBackend {
 public:
  virtual ~AdminBackend() = default;
  // Any HTTP thread; may block (bounded by the implementation's timeout).
  virtual CommandResult RunCommand(const AdminRequest& req) = 0;
};

// ZooKeeper's Commands.handleAuthentication split of an Authorization
// header: "scheme" or "scheme credentials" (one space). False for any other
// shape (answered 401 "Not authenticated").
bool SplitAuthInfo(const std::string& header, std::string* scheme, std::string* credentials);

// The JSON body of a command's answer (CommandResponse.toMap through
// Jackson: the command's fields, then "command" and "error").
std::string RenderJson(const CommandSpec& spec, const CommandResult& r);

// The answer to an unknown name: {"command": name, "error": "Unknown command: name"}.
std::string RenderUnknown(const std::string& name);

}  // namespace aviary::adminserver
