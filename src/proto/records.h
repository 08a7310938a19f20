// Plain C++ mirrors of the jute records of the ZooKeeper client protocol
// (zookeeper.jute, modules data and proto). No behaviour lives here: the
// codec (codec.h) reads and writes them, the rest of the server uses them as
// values. `buffer` fields are std::string holding raw bytes.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "proto/codes.h"

namespace aviary::proto {

struct Id {
  std::string scheme;
  std::string id;
  bool operator==(const Id&) const = default;
};

struct Acl {
  int32_t perms = 0;
  Id id;
  bool operator==(const Acl&) const = default;
};
using AclList = std::vector<Acl>;

struct Stat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime = 0;
  int64_t mtime = 0;
  int32_t version = 0;
  int32_t cversion = 0;
  int32_t aversion = 0;
  int64_t ephemeralOwner = 0;
  int32_t dataLength = 0;
  int32_t numChildren = 0;
  int64_t pzxid = 0;
  bool operator==(const Stat&) const = default;
};

// --- session handshake (no RequestHeader precedes these) -------------------
struct ConnectRequest {
  int32_t protocolVersion = 0;
  int64_t lastZxidSeen = 0;
  int32_t timeOut = 0;
  int64_t sessionId = 0;
  std::string passwd;
  bool readOnly = false;      // optional trailing byte; absent on old clients
  bool has_read_only = true;  // the byte was on the wire
};

struct ConnectResponse {
  int32_t protocolVersion = 0;
  int32_t timeOut = 0;
  int64_t sessionId = 0;
  std::string passwd;
  bool readOnly = false;
  bool has_read_only = true;  // written only when the client sent the byte (as ZooKeeper)
};

struct RequestHeader {
  int32_t xid = 0;
  int32_t type = 0;  // an OpCode value; kept raw so unknown ones survive
};

struct ReplyHeader {
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;
};

// --- request bodies ---------------------------------------------------------
// create, create2, createContainer and createTTL share one body; ttl is on
// the wire only for createTTL (and for createTTL inside multi).
struct CreateRequest {
  std::string path;
  std::string data;
  AclList acl;
  int32_t flags = 0;
  int64_t ttl = -1;
  bool data_null = false;  // the client sent a null buffer (length -1)
};
struct DeleteRequest {
  std::string path;
  int32_t version = -1;
};
struct ExistsRequest {
  std::string path;
  bool watch = false;
};
struct GetDataRequest {
  std::string path;
  bool watch = false;
};
struct SetDataRequest {
  std::string path;
  std::string data;
  int32_t version = -1;
  bool data_null = false;
};
struct GetAclRequest {
  std::string path;
};
struct SetAclRequest {
  std::string path;
  AclList acl;
  int32_t version = -1;
};
// getChildren and getChildren2 share one body.
struct GetChildrenRequest {
  std::string path;
  bool watch = false;
};
struct SyncRequest {
  std::string path;
};
struct CheckVersionRequest {
  std::string path;
  int32_t version = -1;
};
struct AddWatchRequest {
  std::string path;
  int32_t mode = 0;  // AddWatchMode
};
// checkWatches and removeWatches share one body.
struct RemoveWatchesRequest {
  std::string path;
  int32_t type = 0;  // WatcherType
};
// setWatches is decoded into this record with the two persistent lists empty.
struct SetWatches2 {
  int64_t relativeZxid = 0;
  std::vector<std::string> dataWatches;
  std::vector<std::string> existWatches;
  std::vector<std::string> childWatches;
  std::vector<std::string> persistentWatches;
  std::vector<std::string> persistentRecursiveWatches;
};
struct AuthPacket {
  int32_t type = 0;
  std::string scheme;
  std::string auth;
};
// sasl (102): GetSASLRequest, one token of the client's SASL exchange.
struct GetSaslRequest {
  std::string token;
};
struct GetEphemeralsRequest {
  std::string prefixPath;
};
struct GetAllChildrenNumberRequest {
  std::string path;
};
struct ReconfigRequest {
  std::string joiningServers;
  std::string leavingServers;
  std::string newMembers;
  int64_t curConfigId = 0;
};

// One operation of a multi / multiRead. `type` is the op's OpCode; body holds
// CreateRequest for create/create2/createContainer/createTTL, DeleteRequest,
// SetDataRequest, CheckVersionRequest, or (multiRead) GetChildrenRequest /
// GetDataRequest.
struct MultiOp {
  OpCode type = OpCode::kError;
  std::variant<CreateRequest, DeleteRequest, SetDataRequest, CheckVersionRequest, GetChildrenRequest, GetDataRequest>
      body;
};
struct MultiRequest {
  std::vector<MultiOp> ops;
};

// No body: ping, closeSession, whoAmI, and unknown opcodes.
struct Empty {};

using RequestBody = std::variant<Empty, CreateRequest, DeleteRequest, ExistsRequest, GetDataRequest, SetDataRequest,
                                 GetAclRequest, SetAclRequest, GetChildrenRequest, SyncRequest, CheckVersionRequest,
                                 MultiRequest, AddWatchRequest, RemoveWatchesRequest, SetWatches2, AuthPacket,
                                 GetEphemeralsRequest, GetAllChildrenNumberRequest, ReconfigRequest, GetSaslRequest>;

struct Request {
  RequestHeader header;
  RequestBody body;
  OpCode op() const { return static_cast<OpCode>(header.type); }
};

// --- response bodies --------------------------------------------------------
struct CreateResponse {
  std::string path;
};
struct Create2Response {
  std::string path;
  Stat stat;
};
// exists, setData and setACL answer with a bare Stat.
struct StatResponse {
  Stat stat;
};
struct GetDataResponse {
  std::string data;
  Stat stat;
  bool data_null = false;  // written as length -1, as ZooKeeper answers for null data
};
struct GetAclResponse {
  AclList acl;
  Stat stat;
};
struct GetChildrenResponse {
  std::vector<std::string> children;
};
struct GetChildren2Response {
  std::vector<std::string> children;
  Stat stat;
};
struct SyncResponse {
  std::string path;
};
struct GetEphemeralsResponse {
  std::vector<std::string> ephemerals;
};
struct GetAllChildrenNumberResponse {
  int32_t totalNumber = 0;
};
struct ClientInfo {
  std::string authScheme;
  std::string user;
};
struct WhoAmIResponse {
  std::vector<ClientInfo> clientInfo;
};
// A bare int32: ZooKeeper answers addWatch with ErrorResponse{0}.
struct ErrorResponse {
  int32_t err = 0;
};
// sasl (102): the server's next token (null when it has none, and on failure).
struct SetSaslResponse {
  std::string token;
  bool token_null = true;
};
struct WatcherEvent {
  int32_t type = 0;   // EventType
  int32_t state = 0;  // KeeperState
  std::string path;
};

// One result of a multi. `type` decides what follows the MultiHeader on the
// wire: kCreate -> path; kCreate2 -> path + stat; kSetData -> stat;
// kDelete / kCheck -> nothing; kError -> err (ErrorResponse);
// kGetData -> data + stat; kGetChildren -> children (multiRead).
struct MultiResult {
  OpCode type = OpCode::kError;
  int32_t err = 0;
  std::string path;
  Stat stat;
  std::string data;
  std::vector<std::string> children;
  bool data_null = false;
};
struct MultiResponse {
  std::vector<MultiResult> results;
};

using ResponseBody =
    std::variant<Empty, CreateResponse, Create2Response, StatResponse, GetDataResponse, GetAclResponse,
                 GetChildrenResponse, GetChildren2Response, SyncResponse, MultiResponse, GetEphemeralsResponse,
                 GetAllChildrenNumberResponse, WhoAmIResponse, WatcherEvent, ErrorResponse, SetSaslResponse>;

}  // namespace aviary::proto
