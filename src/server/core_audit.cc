// The audit log's hooks in the core (audit.enable; audit/ops.h says which
// writes ZooKeeper 3.8 audits and how).
#include <vector>

#include "audit/ops.h"
#include "server/core.h"
#include "server/core_state.h"

namespace aviary::server {

void Core::NoteForAudit(Pending& p, const Conn& c, const CoreEvent& ev) {
  // A body that did not decode cannot be described (ZooKeeper's AuditHelper
  // fails to read it too and writes no line).
  if (ev.decode_err != proto::Err::kOk || !audit::Audited(ev.request.op())) return;
  p.audit = std::make_shared<const audit::WriteNote>(audit::NoteOf(ev.request, c.session, c.ctx.ids.vec(), c.ip()));
}

void Core::AuditWrite(const Pending& p, const txn::Txn& t, const txn::ApplyResult& r) {
  std::vector<audit::Event> events;
  const bool failed = t.type != proto::OpCode::kMulti && r.err != proto::Err::kOk;
  audit::WriteEvents(*p.audit, t, failed, &events);
  for (audit::Event& e : events) opts_.audit->Log(std::move(e));
}

void Core::AuditEphemerals(int64_t session_id, const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    opts_.audit->Log(audit::EphemeralDeletion(session_id, path, opts_.audit->server_user(), /*deleted=*/true));
  }
}

std::string Core::PeerOf(net::ConnId conn) const {
  auto it = conns_.find(conn);
  return it == conns_.end() ? std::string("(gone)") : it->second->peer();
}

}  // namespace aviary::server
