// Jute serialization of individual records (records.h) on top of the
// primitive Reader/Writer (jute.h). Read* functions leave failures in the
// Reader's sticky flag; Write* functions append. Used by the codec and by
// other parts that embed records (e.g. snapshots); stateless, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "proto/jute.h"
#include "proto/records.h"

namespace aviary::proto::io {

// Minimum encoded sizes, used to bound vector counts before reserving.
inline constexpr size_t kMinStringBytes = 4;
inline constexpr size_t kMinAclBytes = 12;  // perms + two empty ustrings
inline constexpr size_t kStatBytes = 68;    // 6 longs + 5 ints

void Read(jute::Reader& r, Stat* s);
void Write(jute::Writer& w, const Stat& s);
// The kStatBytes of `s` as Write encodes them, stored at `p`.
void PutStat(char* p, const Stat& s);
void Read(jute::Reader& r, AclList* acl);
void Write(jute::Writer& w, const AclList& acl);
void Read(jute::Reader& r, std::vector<std::string>* v);
void Write(jute::Writer& w, const std::vector<std::string>& v);

// CreateRequest: `with_ttl` for createTTL (CreateTTLRequest).
void Read(jute::Reader& r, CreateRequest* b, bool with_ttl);
void Write(jute::Writer& w, const CreateRequest& b, bool with_ttl);
void Read(jute::Reader& r, DeleteRequest* b);
void Write(jute::Writer& w, const DeleteRequest& b);
// ExistsRequest, GetDataRequest, GetChildrenRequest: {path, watch}.
void Read(jute::Reader& r, ExistsRequest* b);
void Write(jute::Writer& w, const ExistsRequest& b);
void Read(jute::Reader& r, GetDataRequest* b);
void Write(jute::Writer& w, const GetDataRequest& b);
void Read(jute::Reader& r, GetChildrenRequest* b);
void Write(jute::Writer& w, const GetChildrenRequest& b);
void Read(jute::Reader& r, SetDataRequest* b);
void Write(jute::Writer& w, const SetDataRequest& b);
void Read(jute::Reader& r, GetAclRequest* b);
void Write(jute::Writer& w, const GetAclRequest& b);
void Read(jute::Reader& r, SetAclRequest* b);
void Write(jute::Writer& w, const SetAclRequest& b);
void Read(jute::Reader& r, SyncRequest* b);
void Write(jute::Writer& w, const SyncRequest& b);
void Read(jute::Reader& r, CheckVersionRequest* b);
void Write(jute::Writer& w, const CheckVersionRequest& b);
void Read(jute::Reader& r, AddWatchRequest* b);
void Write(jute::Writer& w, const AddWatchRequest& b);
void Read(jute::Reader& r, RemoveWatchesRequest* b);
void Write(jute::Writer& w, const RemoveWatchesRequest& b);
// `v2` selects SetWatches2 (five lists) over SetWatches (three lists).
void Read(jute::Reader& r, SetWatches2* b, bool v2);
void Write(jute::Writer& w, const SetWatches2& b, bool v2);
void Read(jute::Reader& r, AuthPacket* b);
void Write(jute::Writer& w, const AuthPacket& b);
void Read(jute::Reader& r, GetSaslRequest* b);
void Write(jute::Writer& w, const GetSaslRequest& b);
void Read(jute::Reader& r, GetEphemeralsRequest* b);
void Write(jute::Writer& w, const GetEphemeralsRequest& b);
void Read(jute::Reader& r, GetAllChildrenNumberRequest* b);
void Write(jute::Writer& w, const GetAllChildrenNumberRequest& b);
void Read(jute::Reader& r, ReconfigRequest* b);
void Write(jute::Writer& w, const ReconfigRequest& b);

void Read(jute::Reader& r, CreateResponse* b);
void Write(jute::Writer& w, const CreateResponse& b);
void Read(jute::Reader& r, Create2Response* b);
void Write(jute::Writer& w, const Create2Response& b);
void Read(jute::Reader& r, StatResponse* b);
void Write(jute::Writer& w, const StatResponse& b);
void Read(jute::Reader& r, GetDataResponse* b);
void Write(jute::Writer& w, const GetDataResponse& b);
void Read(jute::Reader& r, GetAclResponse* b);
void Write(jute::Writer& w, const GetAclResponse& b);
void Read(jute::Reader& r, GetChildrenResponse* b);
void Write(jute::Writer& w, const GetChildrenResponse& b);
void Read(jute::Reader& r, GetChildren2Response* b);
void Write(jute::Writer& w, const GetChildren2Response& b);
void Read(jute::Reader& r, SyncResponse* b);
void Write(jute::Writer& w, const SyncResponse& b);
void Read(jute::Reader& r, GetEphemeralsResponse* b);
void Write(jute::Writer& w, const GetEphemeralsResponse& b);
void Read(jute::Reader& r, ErrorResponse* b);
void Write(jute::Writer& w, const ErrorResponse& b);
void Read(jute::Reader& r, SetSaslResponse* b);
void Write(jute::Writer& w, const SetSaslResponse& b);
void Read(jute::Reader& r, GetAllChildrenNumberResponse* b);
void Write(jute::Writer& w, const GetAllChildrenNumberResponse& b);
void Read(jute::Reader& r, WhoAmIResponse* b);
void Write(jute::Writer& w, const WhoAmIResponse& b);
void Read(jute::Reader& r, WatcherEvent* b);
void Write(jute::Writer& w, const WatcherEvent& b);

// multi / multiRead (multi.cc).
void Read(jute::Reader& r, MultiRequest* b);
void Write(jute::Writer& w, const MultiRequest& b);
void Read(jute::Reader& r, MultiResponse* b);
void Write(jute::Writer& w, const MultiResponse& b);

}  // namespace aviary::proto::io
