// aviary-dump subcommands. Each returns the process exit code: 0 ok,
// 1 corruption / failure (a message on stderr names file and offset),
// 2 usage error. Output goes to stdout. Single-threaded.
//
// Every command only reads the files it is given, except `restore` (writes
// the target dirs) and `backup` (writes --out). `digest` recovers from a
// private temporary copy, because recovery truncates a torn tail in place.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace aviary::dump {

struct Args {
  std::vector<std::string> positional;
  std::map<std::string, std::string> options;  // "--data-dir" -> value
  bool json = false;

  std::string Get(const std::string& key) const {
    auto it = options.find(key);
    return it == options.end() ? std::string() : it->second;
  }
};

// "DIR" may be a dataDir/dataLogDir (holding version-2/) or the version-2
// directory itself; returns the dir that holds version-2.
std::string ResolveDir(const std::string& dir);
// Parses decimal or 0x-hex; false on junk.
bool ParseZxid(const std::string& s, int64_t* out);

int CmdList(const Args& a);
int CmdLog(const Args& a);
int CmdVerify(const Args& a);
int CmdSnapshot(const Args& a);
int CmdDigest(const Args& a);
int CmdBackup(const Args& a);
int CmdRestore(const Args& a);
int CmdImport(const Args& a);  // cmd_import.cc: a ZooKeeper dataDir -> Aviary files

}  // namespace aviary::dump
