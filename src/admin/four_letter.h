// Four-letter words ("4lw") on the client port: a connection whose first four
// bytes spell a known word instead of a length prefix gets a plain-text reply
// and is then closed by the server.
//
// Owns: recognising the words and rendering replies byte-identical to
// ZooKeeper 3.8 from a ServerSnapshot. No I/O, no server state.
// Implemented here: ruok srvr stat envi conf cons mntr wchs isro dirs (wchc and
// wchp are rendered by the core from the watch manager's dumps). Other words
// ZooKeeper knows (crst srst dump gtmk stmk hash) are recognised but always
// answered with the "not in the whitelist" refusal.
// Thread use: pure functions.
#pragma once

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
};

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

// One connection line as stat (brief) / cons (full) print it, without newline.
std::string RenderConnection(const ConnectionInfo& c, bool brief);

}  // namespace aviary::admin
