#include "proto/record_io.h"

namespace aviary::proto::io {

using jute::Reader;
using jute::Writer;

// --- shared pieces -----------------------------------------------------------

void Read(Reader& r, Stat* s) {
  s->czxid = r.ReadInt64();
  s->mzxid = r.ReadInt64();
  s->ctime = r.ReadInt64();
  s->mtime = r.ReadInt64();
  s->version = r.ReadInt32();
  s->cversion = r.ReadInt32();
  s->aversion = r.ReadInt32();
  s->ephemeralOwner = r.ReadInt64();
  s->dataLength = r.ReadInt32();
  s->numChildren = r.ReadInt32();
  s->pzxid = r.ReadInt64();
}

void PutStat(char* p, const Stat& s) {
  Writer::PutInt64(p, s.czxid);
  Writer::PutInt64(p + 8, s.mzxid);
  Writer::PutInt64(p + 16, s.ctime);
  Writer::PutInt64(p + 24, s.mtime);
  Writer::PutInt32(p + 32, s.version);
  Writer::PutInt32(p + 36, s.cversion);
  Writer::PutInt32(p + 40, s.aversion);
  Writer::PutInt64(p + 44, s.ephemeralOwner);
  Writer::PutInt32(p + 52, s.dataLength);
  Writer::PutInt32(p + 56, s.numChildren);
  Writer::PutInt64(p + 60, s.pzxid);
}

// One append for the whole record: every write's and getData's reply
// carries a Stat.
void Write(Writer& w, const Stat& s) {
  w.WriteBlock(kStatBytes, [&s](char* p) { PutStat(p, s); });
}

void Read(Reader& r, AclList* acl) {
  int32_t n = r.ReadVectorCount(kMinAclBytes);
  acl->clear();
  acl->reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    Acl& a = acl->emplace_back();
    a.perms = r.ReadInt32();
    a.id.scheme = r.ReadString();
    a.id.id = r.ReadString();
  }
}

void Write(Writer& w, const AclList& acl) {
  w.WriteVectorCount(acl.size());
  for (const Acl& a : acl) {
    w.WriteInt32(a.perms);
    w.WriteString(a.id.scheme);
    w.WriteString(a.id.id);
  }
}

void Read(Reader& r, std::vector<std::string>* v) {
  int32_t n = r.ReadVectorCount(kMinStringBytes);
  v->clear();
  v->reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n && r.ok(); ++i) v->push_back(r.ReadString());
}

void Write(Writer& w, const std::vector<std::string>& v) {
  w.WriteVectorCount(v.size());
  for (const std::string& s : v) w.WriteString(s);
}

// --- request bodies ----------------------------------------------------------

void Read(Reader& r, CreateRequest* b, bool with_ttl) {
  b->path = r.ReadString();
  b->data = r.ReadBuffer(&b->data_null);
  Read(r, &b->acl);
  b->flags = r.ReadInt32();
  b->ttl = with_ttl ? r.ReadInt64() : -1;
}

void Write(Writer& w, const CreateRequest& b, bool with_ttl) {
  w.WriteString(b.path);
  w.WriteBuffer(b.data, b.data_null);
  Write(w, b.acl);
  w.WriteInt32(b.flags);
  if (with_ttl) w.WriteInt64(b.ttl);
}

void Read(Reader& r, DeleteRequest* b) {
  b->path = r.ReadString();
  b->version = r.ReadInt32();
}
void Write(Writer& w, const DeleteRequest& b) {
  w.WriteString(b.path);
  w.WriteInt32(b.version);
}

// {path, watch} bodies. The path is assigned, not replaced: a body decoded
// into again keeps its storage (codec.cc ReusedBody).
template <typename T>
static void ReadPathWatch(Reader& r, T* b) {
  b->path.assign(r.ReadBufferView());
  b->watch = r.ReadBool();
}
template <typename T>
static void WritePathWatch(Writer& w, const T& b) {
  w.WriteString(b.path);
  w.WriteBool(b.watch);
}
void Read(Reader& r, ExistsRequest* b) { ReadPathWatch(r, b); }
void Write(Writer& w, const ExistsRequest& b) { WritePathWatch(w, b); }
void Read(Reader& r, GetDataRequest* b) { ReadPathWatch(r, b); }
void Write(Writer& w, const GetDataRequest& b) { WritePathWatch(w, b); }
void Read(Reader& r, GetChildrenRequest* b) { ReadPathWatch(r, b); }
void Write(Writer& w, const GetChildrenRequest& b) { WritePathWatch(w, b); }

// Assigned, not replaced, as the {path, watch} bodies below: a body decoded
// into again keeps its storage (codec.cc ReusedBody, server/path_pool.h).
void Read(Reader& r, SetDataRequest* b) {
  b->path.assign(r.ReadBufferView());
  r.ReadBufferInto(&b->data, &b->data_null);
  b->version = r.ReadInt32();
}
void Write(Writer& w, const SetDataRequest& b) {
  w.WriteString(b.path);
  w.WriteBuffer(b.data, b.data_null);
  w.WriteInt32(b.version);
}

void Read(Reader& r, GetAclRequest* b) { b->path = r.ReadString(); }
void Write(Writer& w, const GetAclRequest& b) { w.WriteString(b.path); }

void Read(Reader& r, SetAclRequest* b) {
  b->path = r.ReadString();
  Read(r, &b->acl);
  b->version = r.ReadInt32();
}
void Write(Writer& w, const SetAclRequest& b) {
  w.WriteString(b.path);
  Write(w, b.acl);
  w.WriteInt32(b.version);
}

void Read(Reader& r, SyncRequest* b) { b->path = r.ReadString(); }
void Write(Writer& w, const SyncRequest& b) { w.WriteString(b.path); }

void Read(Reader& r, CheckVersionRequest* b) {
  b->path = r.ReadString();
  b->version = r.ReadInt32();
}
void Write(Writer& w, const CheckVersionRequest& b) {
  w.WriteString(b.path);
  w.WriteInt32(b.version);
}

void Read(Reader& r, AddWatchRequest* b) {
  b->path = r.ReadString();
  b->mode = r.ReadInt32();
}
void Write(Writer& w, const AddWatchRequest& b) {
  w.WriteString(b.path);
  w.WriteInt32(b.mode);
}

void Read(Reader& r, RemoveWatchesRequest* b) {
  b->path = r.ReadString();
  b->type = r.ReadInt32();
}
void Write(Writer& w, const RemoveWatchesRequest& b) {
  w.WriteString(b.path);
  w.WriteInt32(b.type);
}

void Read(Reader& r, SetWatches2* b, bool v2) {
  b->relativeZxid = r.ReadInt64();
  Read(r, &b->dataWatches);
  Read(r, &b->existWatches);
  Read(r, &b->childWatches);
  b->persistentWatches.clear();
  b->persistentRecursiveWatches.clear();
  if (v2) {
    Read(r, &b->persistentWatches);
    Read(r, &b->persistentRecursiveWatches);
  }
}
void Write(Writer& w, const SetWatches2& b, bool v2) {
  w.WriteInt64(b.relativeZxid);
  Write(w, b.dataWatches);
  Write(w, b.existWatches);
  Write(w, b.childWatches);
  if (v2) {
    Write(w, b.persistentWatches);
    Write(w, b.persistentRecursiveWatches);
  }
}

void Read(Reader& r, AuthPacket* b) {
  b->type = r.ReadInt32();
  b->scheme = r.ReadString();
  b->auth = r.ReadBuffer();
}
void Write(Writer& w, const AuthPacket& b) {
  w.WriteInt32(b.type);
  w.WriteString(b.scheme);
  w.WriteBuffer(b.auth);
}

void Read(Reader& r, GetSaslRequest* b) { b->token = r.ReadBuffer(); }
void Write(Writer& w, const GetSaslRequest& b) { w.WriteBuffer(b.token); }

void Read(Reader& r, GetEphemeralsRequest* b) { b->prefixPath = r.ReadString(); }
void Write(Writer& w, const GetEphemeralsRequest& b) { w.WriteString(b.prefixPath); }

void Read(Reader& r, GetAllChildrenNumberRequest* b) { b->path = r.ReadString(); }
void Write(Writer& w, const GetAllChildrenNumberRequest& b) { w.WriteString(b.path); }

void Read(Reader& r, ReconfigRequest* b) {
  b->joiningServers = r.ReadString();
  b->leavingServers = r.ReadString();
  b->newMembers = r.ReadString();
  b->curConfigId = r.ReadInt64();
}
void Write(Writer& w, const ReconfigRequest& b) {
  w.WriteString(b.joiningServers);
  w.WriteString(b.leavingServers);
  w.WriteString(b.newMembers);
  w.WriteInt64(b.curConfigId);
}

// --- response bodies ---------------------------------------------------------

void Read(Reader& r, CreateResponse* b) { b->path = r.ReadString(); }
void Write(Writer& w, const CreateResponse& b) { w.WriteString(b.path); }

void Read(Reader& r, Create2Response* b) {
  b->path = r.ReadString();
  Read(r, &b->stat);
}
void Write(Writer& w, const Create2Response& b) {
  w.WriteString(b.path);
  Write(w, b.stat);
}

void Read(Reader& r, StatResponse* b) { Read(r, &b->stat); }
void Write(Writer& w, const StatResponse& b) { Write(w, b.stat); }

void Read(Reader& r, GetDataResponse* b) {
  b->data = r.ReadBuffer(&b->data_null);
  Read(r, &b->stat);
}
void Write(Writer& w, const GetDataResponse& b) {
  w.WriteBuffer(b.data, b.data_null);
  Write(w, b.stat);
}

void Read(Reader& r, GetAclResponse* b) {
  Read(r, &b->acl);
  Read(r, &b->stat);
}
void Write(Writer& w, const GetAclResponse& b) {
  Write(w, b.acl);
  Write(w, b.stat);
}

void Read(Reader& r, GetChildrenResponse* b) { Read(r, &b->children); }
void Write(Writer& w, const GetChildrenResponse& b) { Write(w, b.children); }

void Read(Reader& r, GetChildren2Response* b) {
  Read(r, &b->children);
  Read(r, &b->stat);
}
void Write(Writer& w, const GetChildren2Response& b) {
  Write(w, b.children);
  Write(w, b.stat);
}

void Read(Reader& r, SyncResponse* b) { b->path = r.ReadString(); }
void Write(Writer& w, const SyncResponse& b) { w.WriteString(b.path); }

void Read(Reader& r, GetEphemeralsResponse* b) { Read(r, &b->ephemerals); }
void Write(Writer& w, const GetEphemeralsResponse& b) { Write(w, b.ephemerals); }

void Read(Reader& r, ErrorResponse* b) { b->err = r.ReadInt32(); }
void Write(Writer& w, const ErrorResponse& b) { w.WriteInt32(b.err); }
void Read(Reader& r, SetSaslResponse* b) { b->token = r.ReadBuffer(&b->token_null); }
void Write(Writer& w, const SetSaslResponse& b) { w.WriteBuffer(b.token, b.token_null); }

void Read(Reader& r, GetAllChildrenNumberResponse* b) { b->totalNumber = r.ReadInt32(); }
void Write(Writer& w, const GetAllChildrenNumberResponse& b) { w.WriteInt32(b.totalNumber); }

void Read(Reader& r, WhoAmIResponse* b) {
  int32_t n = r.ReadVectorCount(2 * kMinStringBytes);
  b->clientInfo.clear();
  b->clientInfo.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n && r.ok(); ++i) {
    ClientInfo& c = b->clientInfo.emplace_back();
    c.authScheme = r.ReadString();
    c.user = r.ReadString();
  }
}
void Write(Writer& w, const WhoAmIResponse& b) {
  w.WriteVectorCount(b.clientInfo.size());
  for (const ClientInfo& c : b.clientInfo) {
    w.WriteString(c.authScheme);
    w.WriteString(c.user);
  }
}

void Read(Reader& r, WatcherEvent* b) {
  b->type = r.ReadInt32();
  b->state = r.ReadInt32();
  b->path = r.ReadString();
}
void Write(Writer& w, const WatcherEvent& b) {
  w.WriteInt32(b.type);
  w.WriteInt32(b.state);
  w.WriteString(b.path);
}

}  // namespace aviary::proto::io
