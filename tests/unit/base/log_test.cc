// base/log.h: modules, level specs, the file sink with rotation and reopen.
#include "base/log.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "base/rotating_file.h"

namespace aviary {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TempDir() {
  std::string dir = std::filesystem::temp_directory_path() / ("aviary-log-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(LogModules, FromSourcePaths) {
  EXPECT_EQ(log::kModules[log::ModuleOf("/work/x/src/server/core.cc")], "server");
  EXPECT_EQ(log::kModules[log::ModuleOf("src/peer/election_conn.cc")], "peer");
  EXPECT_EQ(log::kModules[log::ModuleOf("../src/zab/node.cc")], "zab");
  EXPECT_EQ(log::kModules[log::ModuleOf("tools/aviary_server_main.cc")], "tools");
  EXPECT_EQ(log::ModuleOf("/work/x/tests/unit/base/log_test.cc"), 0);
  EXPECT_EQ(log::ModuleOf("src/nosuch/x.cc"), 0);
  static_assert(log::ModuleOf("src/audit/ops.cc") != 0, "computed at compile time");
}

TEST(LogLevels, SpecAppliesDefaultThenModules) {
  std::string error;
  ASSERT_TRUE(log::ApplyLevelSpec("warn,peer=debug, zab = error", &error)) << error;
  EXPECT_EQ(log::GetLevel(), log::kWarn);
  EXPECT_EQ(log::ModuleLevel(log::ModuleOf("src/peer/a.cc")), log::kDebug);
  EXPECT_EQ(log::ModuleLevel(log::ModuleOf("src/zab/a.cc")), log::kError);
  EXPECT_EQ(log::ModuleLevel(log::ModuleOf("src/server/a.cc")), log::kWarn);
  EXPECT_EQ(log::CurrentLevelSpec(), "warn,zab=error,peer=debug");
  // A bad spec changes nothing.
  EXPECT_FALSE(log::ApplyLevelSpec("info,peer=loud", &error));
  EXPECT_NE(error.find("loud"), std::string::npos);
  EXPECT_FALSE(log::ApplyLevelSpec("info,nosuch=debug", &error));
  EXPECT_FALSE(log::ApplyLevelSpec("info,debug", &error));
  EXPECT_EQ(log::CurrentLevelSpec(), "warn,zab=error,peer=debug");
  EXPECT_TRUE(log::SetModuleLevel("server", log::kDebug));
  EXPECT_FALSE(log::SetModuleLevel("nosuch", log::kDebug));
  log::SetLevel(log::kInfo);  // resets every module
  EXPECT_EQ(log::CurrentLevelSpec(), "info");
}

TEST(LogSink, FileGetsLinesAtTheModulesLevel) {
  const std::string dir = TempDir();
  const std::string path = dir + "/aviary.log";
  std::string error;
  log::SinkOptions o;
  o.path = path;
  ASSERT_TRUE(log::Configure(o, &error)) << error;
  ASSERT_TRUE(log::ApplyLevelSpec("info,base=debug", &error));
  log::Write(log::kInfo, log::ModuleOf("src/server/x.cc"), "hello server");
  {
    // This file is not under src/: module "other", at the default level.
    AV_LOG(kDebug, "hidden {}", 1);
    AV_LOG(kWarn, "shown {}", 2);
  }
  std::string text = ReadFile(path);
  EXPECT_NE(text.find(" INFO [server] hello server\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" WARN [other] shown 2\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("hidden"), std::string::npos) << text;
  // After an external rename (logrotate), Reopen starts a new file.
  std::filesystem::rename(path, path + ".old");
  log::Reopen();
  log::Write(log::kError, 0, "after reopen");
  EXPECT_NE(ReadFile(path).find("ERROR [other] after reopen"), std::string::npos);
  // Journal format: priority prefix, no time.
  o.format = log::Format::kJournal;
  ASSERT_TRUE(log::Configure(o, &error));
  log::Write(log::kWarn, log::ModuleOf("src/zab/n.cc"), "journal line");
  EXPECT_NE(ReadFile(path).find("\n<4>[zab] journal line\n"), std::string::npos) << ReadFile(path);
  ASSERT_TRUE(log::Configure(log::SinkOptions{}, &error));  // back to stderr
  log::SetLevel(log::kInfo);
  std::filesystem::remove_all(dir);
}

TEST(RotatingFile, RotatesBySizeKeepingBackups) {
  const std::string dir = TempDir();
  const std::string path = dir + "/r.log";
  base::RotatingFile f;
  std::string error;
  ASSERT_TRUE(f.Open(path, 100, 2, &error)) << error;
  const std::string line(40, 'x');
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(f.Write(std::to_string(i) + line + "\n", &error)) << error;
  // 42-byte lines, 100 bytes a file: two lines each; 8 lines -> 3 rotations, 2 backups kept.
  EXPECT_EQ(f.rotations(), 3);
  EXPECT_EQ(ReadFile(path).substr(0, 1), "6");
  EXPECT_EQ(ReadFile(base::BackupName(path, 1)).substr(0, 1), "4");
  EXPECT_EQ(ReadFile(base::BackupName(path, 2)).substr(0, 1), "2");
  EXPECT_FALSE(std::filesystem::exists(base::BackupName(path, 3)));
  EXPECT_LE(std::filesystem::file_size(path), 100u);
  std::filesystem::remove_all(dir);
}

TEST(RotatingFile, NoBackupsTruncatesAndZeroNeverRotates) {
  const std::string dir = TempDir();
  std::string error;
  base::RotatingFile t;
  ASSERT_TRUE(t.Open(dir + "/t.log", 50, 0, &error));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(t.Write(std::string(30, 'a' + i) + "\n", &error));
  EXPECT_EQ(ReadFile(dir + "/t.log"), std::string(30, 'e') + "\n");
  EXPECT_FALSE(std::filesystem::exists(dir + "/t.log.1"));
  base::RotatingFile n;
  ASSERT_TRUE(n.Open(dir + "/n.log", 0, 3, &error));
  for (int i = 0; i < 50; ++i) ASSERT_TRUE(n.Write(std::string(100, 'z') + "\n", &error));
  EXPECT_EQ(std::filesystem::file_size(dir + "/n.log"), 5050u);
  EXPECT_EQ(n.rotations(), 0);
  // An existing file's size counts (a restart appends).
  base::RotatingFile again;
  ASSERT_TRUE(again.Open(dir + "/n.log", 6000, 1, &error));
  EXPECT_EQ(again.size_bytes(), 5050);
  ASSERT_TRUE(again.Write(std::string(1000, 'q'), &error));
  EXPECT_EQ(again.rotations(), 1);
  EXPECT_EQ(std::filesystem::file_size(dir + "/n.log.1"), 5050u);
  EXPECT_FALSE(again.Open(dir + "/nodir/x.log", 0, 1, &error));
  EXPECT_NE(error.find("cannot open"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace aviary
