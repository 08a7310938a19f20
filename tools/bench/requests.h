// The request streams of the pipelined workloads (get, exists, set, mixed,
// create, create-delete, delete, children, multi): one Conn per session
// with its reusable request records, and, per workload, what to send next
// (reply_check.h says what a correct reply looks like). Encoding reuses the
// records' buffers, so a steady state does not allocate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "link.h"
#include "plan.h"
#include "proto/records.h"

namespace aviary::bench {

struct Slot {
  int32_t xid = 0;
  proto::OpCode op = proto::OpCode::kError;
  int64_t sent_ns = 0;    // open loop: the scheduled time
  int64_t queued_ns = 0;  // when it was put in the send buffer (open loop: >= sent_ns)
  // Open loop: when it could first have been sent: its slot or, when the
  // session was at its depth cap then, the arrival of the reply that made
  // room (ready_ns - sent_ns: held by the cap, i.e. by the server's
  // replies; queued_ns - ready_ns: the generator's own lateness).
  int64_t ready_ns = 0;
  int64_t aux = 0;    // create: parent index; create-delete: node number
  bool late = false;  // open loop: sent more than kLateNs after its slot
};

struct Conn {
  Link link;
  int index = 0;
  uint64_t rng = 0;
  int32_t next_xid = 1;
  std::vector<Slot> ring;  // FIFO of in-flight requests, capacity = depth
  size_t head = 0, count = 0;
  bool dead = false;
  int64_t next_sched_ns = 0;  // open loop
  int64_t cap_freed_ns = 0;   // open loop: when a reply last took it below its depth cap (arrival, else read)
  int64_t arrival_ns = 0;     // open loop, epoll: when the replies being handled arrived (steady; 0: unknown)
  int64_t seq = 0;            // create / create-delete counter
  proto::Request get, set, exists, create, del, children, multi;
  std::string scratch;
};

void InitRequests(const Plan& plan, Conn* c);
// Fills plan's frame tables for the keyed workloads (get, exists, set,
// mixed, sweep) from a Conn's initialised requests; set frames only while
// they take <= 256 MiB (else those are encoded at send time).
void BuildFrames(Plan* plan, const Conn& proto_conn);
// Appends the next request to c.link.out and fills *slot (xid, op, aux).
// False when the workload has nothing left to send (delete: no victims).
bool NextRequest(Plan& plan, Conn& c, Slot* slot);
// create-delete: "<parent>/c<conn>-<n>", built in place (no allocation once
// *out has grown).
void NodePath(const Plan& plan, int conn, int64_t n, std::string* out);

}  // namespace aviary::bench
