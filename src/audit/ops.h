// Which writes ZooKeeper 3.8 audits and with which keys (AuditHelper,
// DataTree.deleteNodes), for Aviary's requests and txns:
//  - create / create2 / createContainer: operation=create, znode (the final
//    path; the requested one when it failed), znode_type (CreateMode in
//    lower case); createTTL alone is not audited (3.8's AuditHelper skips it);
//  - delete, setData: znode; setACL: znode and acl (the request's ACL as
//    ZKUtil.aclToString writes it: scheme:id:perms, entries not separated);
//  - multi that succeeded: one line per create (znode_type only when the
//    requested path is the final one: not for sequential nodes, nor for
//    createTTL), delete and setData, none for check; a failed multi: one line
//    operation=multiOperation result=failure (no znode);
//  - a failed single write (ErrorTxn): result=failure;
//  - each ephemeral node removed by a session's close or expiry:
//    operation=ephemeralZNodeDeletionOnSessionCloseOrExpire, the server's user,
//    no ip.
// A client write is audited by the server the client is connected to, with
// the users and ip its session had when the request was received.
// Thread use: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "audit/event.h"
#include "proto/records.h"
#include "txn/txn.h"

namespace aviary::audit {

// What an audit line needs from a write request, kept (only when auditing
// is on) from its arrival until its txn commits.
struct WriteNote {
  proto::OpCode op = proto::OpCode::kError;
  std::string path;        // the requested path (single ops)
  std::string znode_type;  // single create: CreateMode name; empty if none
  std::string acl;         // setACL: aclToString of the request's ACL
  bool acl_set = false;
  // multi: (requested path, CreateMode name) of each create/create2/createContainer op.
  std::vector<std::pair<std::string, std::string>> create_modes;
  std::string session;  // "0x..."
  std::string users;    // empty: absent
  std::string ip;
};

// CreateMode.fromFlag(flags).toString().toLowerCase(); empty for a bad flag.
std::string CreateModeName(int32_t flags);
// ZKUtil.aclToString.
std::string AclToString(const proto::AclList& acl);
// AuthUtil.getUsers: each id's user name (ip, sasl, x509: the id; digest:
// the part before ':'; other schemes, "super": none), non-blank ones joined
// by ','; empty when there is none. In ZooKeeper's order: that of its
// ConcurrentHashMap set of ids (by Id.hashCode bucket, then as added).
std::string UsersOf(const std::vector<proto::Id>& ids);
// False for requests ZooKeeper never audits (reads, check, sessions).
bool Audited(proto::OpCode op);
// The note of an audited request (Audited(req.op())).
WriteNote NoteOf(const proto::Request& req, int64_t session_id, const std::vector<proto::Id>& ids,
                 const std::string& ip);
// The events for the committed txn `t` of the write noted in `note`;
// `failed`: the single op's reply error is not kOk.
void WriteEvents(const WriteNote& note, const txn::Txn& t, bool failed, std::vector<Event>* out);
// DataTree.deleteNodes' event for an ephemeral of session `session_id`.
Event EphemeralDeletion(int64_t session_id, const std::string& path, const std::string& server_user, bool deleted);
// serverStart / serverStop events (user only).
Event ServerEvent(std::string_view operation, const std::string& server_user, Result result);

}  // namespace aviary::audit
