// Zero-allocation reading of reply frames for the pipelined workloads: the
// reply header, and whether a successful reply's body is what the request
// asked for, checked straight on the wire bytes (jute: big-endian ints,
// buffers and strings as int32 length + bytes, -1 = null; Stat = 68 bytes).
// Every read is bounds-checked: a short or malformed body is "not right",
// never a crash. Stateless apart from the scratch string in the Conn.
#pragma once

#include <cstdint>
#include <string_view>

#include "requests.h"

namespace aviary::bench {

struct ReplyHead {
  int32_t xid = 0;
  int64_t zxid = 0;
  int32_t err = 0;
  std::string_view body;  // what follows the header
};

// False if the payload is shorter than a reply header.
bool ParseReplyHead(std::string_view payload, ReplyHead* out);

// For a reply with err == 0 to the request in `s`.
bool ReplyBodyRight(const Plan& plan, Conn& c, const Slot& s, std::string_view body);

}  // namespace aviary::bench
