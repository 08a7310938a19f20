// Four-letter words ("4lw") on the client port: a connection whose first four
// bytes spell a known word instead of a length prefix gets a plain-text reply
// and is then closed by the server.
//
// Owns: recognising the words and rendering replies byte-identical to
// ZooKeeper 3.8 from a ServerSnapshot. No I/O, no server state.
// Implemented here: every word ZooKeeper 3.8 answers - ruok srvr stat envi
// conf cons crst srst dump gtmk stmk mntr wchs isro dirs hash (wchc and wchp
// are rendered by the core from the watch manager's dumps). crst / srst /
// stmk change server state: the core does that first (when the word is
// allowed and the server is serving), then renders the reply here.
// Thread use: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "admin/server_snapshot.h"
#include "config/four_letter_whitelist.h"

namespace aviary::admin {

using config::FourLetterWhitelist;

// True when the first four bytes of a connection are a word ZooKeeper 3.8
// treats as a command (so they must not be read as a length prefix).
bool IsFourLetterWord(std::string_view first4);

// True for the words RenderFourLetter actually executes.
bool IsImplementedFourLetterWord(std::string_view cmd);

// The parts of a ServerSnapshot the words read. The server fills only the
// parts the asked word needs (PartsFor); full_version, serving and
// read_only are always filled (they cost nothing).
enum SnapshotPart : unsigned {
  kPartNone = 0,
  kPartStats = 1u << 0,         // counts, latencies, packets, outstanding, zxid, uptime, sessions
  kPartConnections = 1u << 1,   // one ConnectionInfo per connection
  kPartConfig = 1u << 2,        // conf's configured values and absolute directories
  kPartDirSizes = 1u << 3,      // data_dir_size / log_dir_size (directory listings)
  kPartFds = 1u << 4,           // open_fd_count / max_fd_count (/proc/self/fd)
  kPartEnvironment = 1u << 5,   // envi's list (uname, passwd entry, memory)
  kPartWatchSummary = 1u << 6,  // wchs_* (a walk over the watch table)
  kPartMetrics = 1u << 7,       // registry_metrics: mntr's counters and summaries (admin/mntr.h)
  kPartDump = 1u << 8,          // dump: session buckets, ephemerals, connection buckets
  kPartDigestLog = 1u << 9,     // hash: the digest log
};

// ZooKeeper's "This ZooKeeper instance is not currently serving requests".
inline constexpr std::string_view kNotServingLine = "This ZooKeeper instance is not currently serving requests";

// stmk carries an 8-byte big-endian mask after the word: the bytes a
// connection must send before the word can be answered.
inline constexpr size_t kSetTraceMaskBytes = 12;
// ZooTrace's default text trace mask (CLIENT_REQUEST | SERVER_PACKET |
// CLIENT_PING | WARNING: 306), what gtmk prints before any stmk.
inline constexpr int64_t kDefaultTraceMask = 306;
// The mask in stmk's 8 bytes after the word (big-endian, Java's getLong);
// nullopt when fewer than 8 bytes follow.
std::optional<int64_t> ParseSetTraceMask(std::string_view word_and_arg);

// What RenderFourLetter(cmd, s, wl) reads from `s`: kPartNone for a word
// that is refused (not whitelisted or not implemented) or not a word at all,
// whose reply is fixed text.
unsigned PartsFor(std::string_view cmd, const FourLetterWhitelist& wl);

// The complete reply for `cmd`. Words not enabled by `wl` (or not
// implemented) get "<cmd> is not executed because it is not in the
// whitelist.\n". Returns "" when `cmd` is not a four-letter word at all.
std::string RenderFourLetter(std::string_view cmd, const ServerSnapshot& s, const FourLetterWhitelist& wl);

// mntr's key/value pairs in output order, names WITHOUT the "zk_" prefix
// (mntr prints "zk_<name>\t<value>\n"). Implemented in admin/mntr.cc, which
// also has the typed pairs (MntrSamples) for the AdminServer's "monitor".
std::vector<std::pair<std::string, std::string>> MntrPairs(const ServerSnapshot& s);

// ZooKeeper's short name of a request type for cons's "lop"
// (FinalRequestProcessor): GETD, SETD, EXIS, CREA, PING, ... "NA" for the
// types it does not name.
std::string_view LastOpName(int32_t opcode);

// One connection line as stat (brief) / cons (full) print it, without newline.
std::string RenderConnection(const ConnectionInfo& c, bool brief);

// dump's body (serving server), as ZooKeeper 3.8 with its NIO connection
// factory prints it.
std::string RenderDump(const DumpInfo& d);

// Java's Date.toString() of `wall_ms` in the local time zone:
// "Tue Dec 01 00:09:14 UTC 2026".
std::string JavaDate(int64_t wall_ms);

}  // namespace aviary::admin
