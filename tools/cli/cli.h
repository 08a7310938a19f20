// Shared pieces of the `aviary` CLI (docs/CLI.md): the command table, the
// context a command runs in, zkCli-style option parsing and error reporting.
// One thread; a command writes its results to stdout and its errors to
// stderr (and, with --json, one JSON document to stdout either way).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "client/session.h"
#include "proto/records.h"

namespace aviary::cli {

using Args = std::vector<std::string>;  // args[0] is the command name

struct Context {
  client::Session* zk = nullptr;  // null until connected
  bool json = false;
  bool print_watches = true;
  client::SessionOptions session_opts;
};

// Exit statuses, as zkCli's: 0 done, 1 failed, 127 unknown command.
inline constexpr int kOk = 0;
inline constexpr int kFailed = 1;
inline constexpr int kNotFound = 127;

struct Command {
  std::string name;
  std::string usage;  // after the name, as zkCli prints it
  int (*run)(Context&, const Args&);
};

// Every command, registered by the families (cmd_*.cc).
const std::vector<Command>& Commands();
const Command* FindCommand(const std::string& name);
void AddNodeCommands(std::vector<Command>* out);
void AddTreeCommands(std::vector<Command>* out);
void AddAclCommands(std::vector<Command>* out);
void AddWatchCommands(std::vector<Command>* out);
void AddQuotaCommands(std::vector<Command>* out);
void AddBulkCommands(std::vector<Command>* out);
int ExportCmd(Context& ctx, const Args& args);  // cmd_export.cc
int ImportCmd(Context& ctx, const Args& args);  // cmd_import.cc

// Options as Apache commons-cli's DefaultParser reads them: anywhere in the
// arguments, "-x", "-xVALUE" or "-x VALUE". `spec` lists the letters, a
// letter followed by ':' takes a value. "--" ends the options.
struct Parsed {
  std::map<char, std::string> opts;
  Args pos;  // positional arguments, pos[0] = command name
  bool has(char c) const { return opts.count(c) != 0; }
};
bool ParseOpts(const Args& args, const char* spec, Parsed* out, std::string* error);

// Runs a request; the reply's error is returned.
client::Result Call(Context& ctx, proto::OpCode op, proto::RequestBody body);

// The outcome of a multi: ZooKeeper answers a failed multi with header err
// 0 and error results; this is the first op's real error (kOk if none).
proto::Err MultiError(const client::Result& r, size_t* index = nullptr);

// zkCli's messages for a failed request (CliWrapperException's text).
std::string ErrMessage(proto::Err err, const std::string& path);
// Reports a failure: the message on stderr, and with --json an error
// document on stdout. Returns kFailed.
int Fail(Context& ctx, const std::string& message, proto::Err err = proto::Err::kOk);
int FailErr(Context& ctx, proto::Err err, const std::string& path);
// Usage error: "usage line" on stderr (as zkCli prints getUsageStr()).
int Usage(Context& ctx, const std::string& name);

// Prints a Stat as zkCli's StatPrinter does.
void PrintStat(const proto::Stat& s);
// Java's Date.toString() of milliseconds since the epoch, local time zone.
std::string JavaDate(int64_t ms);
// zkCli's ACL parser (perms printed with proto::perms::Letters):
// scheme:id:perms[,...]; malformed entries are reported on stderr and
// skipped, as AclParser does.
proto::AclList ParseAcl(const std::string& text);
proto::AclList OpenAcl();

// Splits a command line as zkCli does (whitespace-separated, '...' or "..."
// quoted tokens with the quotes removed).
Args Tokenize(const std::string& line);
// Removes every `flag` (e.g. "--force") from *args; true when one was there.
bool TakeFlag(Args* args, const std::string& flag);

// Integer parse of a whole string; false when not a number in range.
bool ParseInt(const std::string& s, int64_t* out);

// Helpers for tree walking (cmd_tree.cc).
std::string ChildPath(const std::string& parent, const std::string& child);
// BFS list of path and its descendants (ZKUtil.listSubTreeBFS).
proto::Err ListSubtreeBfs(Context& ctx, const std::string& root, std::vector<std::string>* out);

}  // namespace aviary::cli
