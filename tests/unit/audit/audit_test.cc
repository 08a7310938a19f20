// audit/: ZooKeeper 3.8's audit line format, which writes give which lines,
// and the writer (its file, rotation, bounded queue).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "audit/audit_log.h"
#include "audit/event.h"
#include "audit/ops.h"

namespace aviary::audit {
namespace {

using proto::OpCode;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TempDir() {
  std::string dir = std::filesystem::temp_directory_path() / ("aviary-audit-test-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

proto::Request Req(OpCode op, proto::RequestBody body) {
  proto::Request r;
  r.header.type = static_cast<int32_t>(op);
  r.body = std::move(body);
  return r;
}

std::vector<proto::Id> Ids() { return {{"ip", "10.0.0.7"}, {"digest", "alice:hash="}, {"super", ""}}; }

std::vector<std::string> Lines(const WriteNote& n, const txn::Txn& t, bool failed) {
  std::vector<Event> events;
  WriteEvents(n, t, failed, &events);
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(FormatEvent(e));
  return out;
}

txn::Txn Single(OpCode type, txn::Op op) {
  txn::Txn t;
  t.type = type;
  t.op = std::move(op);
  return t;
}

TEST(AuditEvent, KeyOrderTabsAndAbsentKeys) {
  Event e;
  e.session = SessionHex(0x100000abcdef0001);
  e.user = "127.0.0.1,alice";
  e.ip = "127.0.0.1";
  e.operation = "setAcl";
  e.znode = "/a";
  e.acl = "world:anyone:cdrwa";
  e.result = Result::kFailure;
  EXPECT_EQ(FormatEvent(e),
            "session=0x100000abcdef0001\tuser=127.0.0.1,alice\tip=127.0.0.1\toperation=setAcl\tznode=/a\t"
            "acl=world:anyone:cdrwa\tresult=failure");
  EXPECT_EQ(FormatEvent(ServerEvent(kOpServerStop, "zookeeper", Result::kInvoked)),
            "user=zookeeper\toperation=serverStop\tresult=invoked");
  EXPECT_EQ(SessionHex(-1), "0xffffffffffffffff");  // Long.toHexString
  EXPECT_EQ(SessionHex(0x1), "0x1");
}

TEST(AuditEvent, LineLayoutIsTheRfaauditAppenders) {
  Event ok = ServerEvent(kOpServerStart, "root", Result::kSuccess);
  std::string line = FormatLine(ok, 1700000000123);
  EXPECT_TRUE(std::regex_match(line, std::regex(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,123 INFO audit\.Slf4jAuditLogger: )"
                                                R"(user=root\toperation=serverStart\tresult=success\n)")))
      << line;
  Event bad = ok;
  bad.result = Result::kFailure;
  EXPECT_NE(FormatLine(bad, 0).find(" ERROR audit.Slf4jAuditLogger: "), std::string::npos);
}

TEST(AuditOps, UsersAsAuthUtil) {
  // In the order of ZooKeeper's ConcurrentHashMap of ids (Id.hashCode buckets),
  // not as added; as ZooKeeper 3.8 logs them (tests/audit compares with it).
  EXPECT_EQ(UsersOf(Ids()), "alice,10.0.0.7");
  EXPECT_EQ(UsersOf({{"ip", "127.0.0.1"}, {"digest", "alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E="}}), "alice,127.0.0.1");
  EXPECT_EQ(UsersOf({{"sasl", "zkcli@EXAMPLE.COM"}, {"x509", "CN=c"}, {"ip", "::1"}}), "CN=c,zkcli@EXAMPLE.COM,::1");
  EXPECT_EQ(UsersOf({{"super", ""}, {"ip", " "}}), "");
  EXPECT_EQ(AclToString({{31, {"world", "anyone"}}, {1 | 4, {"digest", "u:h"}}}), "world:anyone:cdrwadigest:u:h:cr");
  EXPECT_EQ(CreateModeName(3), "ephemeral_sequential");
  EXPECT_EQ(CreateModeName(6), "persistent_sequential_with_ttl");
  EXPECT_EQ(CreateModeName(7), "");
}

TEST(AuditOps, SingleWrites) {
  proto::CreateRequest cr{"/s-", "", {}, 2, -1, false};
  WriteNote n = NoteOf(Req(OpCode::kCreate2, cr), 0x42, Ids(), "10.0.0.7");
  txn::CreateTxn ct;
  ct.path = "/s-0000000003";
  const std::string who = "session=0x42\tuser=alice,10.0.0.7\tip=10.0.0.7\t";
  EXPECT_EQ(Lines(n, Single(OpCode::kCreate2, {OpCode::kCreate2, ct}), false),
            std::vector<std::string>{who + "operation=create\tznode=/s-0000000003\tznode_type=persistent_sequential\t"
                                           "result=success"});
  // Failed (ErrorTxn): the requested path.
  txn::Txn err = Single(OpCode::kError, {OpCode::kError, txn::ErrorTxn{proto::Err::kNoNode}});
  EXPECT_EQ(Lines(n, err, true), std::vector<std::string>{who + "operation=create\tznode=/s-\t"
                                                                "znode_type=persistent_sequential\tresult=failure"});
  proto::SetAclRequest sa{"/a", {{31, {"world", "anyone"}}}, -1};
  WriteNote acl = NoteOf(Req(OpCode::kSetAcl, sa), 0x42, Ids(), "10.0.0.7");
  EXPECT_EQ(Lines(acl, err, true),
            std::vector<std::string>{who + "operation=setAcl\tznode=/a\tacl=world:anyone:cdrwa\tresult=failure"});
  WriteNote del = NoteOf(Req(OpCode::kDelete, proto::DeleteRequest{"/d", -1}), 0x42, Ids(), "10.0.0.7");
  EXPECT_EQ(Lines(del, Single(OpCode::kDelete, {OpCode::kDelete, txn::DeleteTxn{"/d"}}), false),
            std::vector<std::string>{who + "operation=delete\tznode=/d\tresult=success"});
  // reconfig (disabled: always an ErrorTxn): no znode, as ZooKeeper's failed txn.
  WriteNote rc = NoteOf(Req(OpCode::kReconfig, proto::ReconfigRequest{}), 0x42, Ids(), "10.0.0.7");
  EXPECT_EQ(Lines(rc, err, true), std::vector<std::string>{who + "operation=reconfig\tresult=failure"});
  // createTTL alone, check alone: not audited by ZooKeeper 3.8.
  EXPECT_FALSE(Audited(OpCode::kCreateTtl));
  EXPECT_FALSE(Audited(OpCode::kCheck));
  EXPECT_FALSE(Audited(OpCode::kCloseSession));
  // A bad CreateMode flag: no line (ZooKeeper's AuditHelper throws).
  proto::CreateRequest bad{"/b", "", {}, 9, -1, false};
  EXPECT_TRUE(Lines(NoteOf(Req(OpCode::kCreate, bad), 1, {}, "1.2.3.4"), err, true).empty());
}

TEST(AuditOps, MultiLinesPerOpOrOneFailure) {
  proto::MultiRequest m;
  m.ops.push_back({OpCode::kCreate, proto::CreateRequest{"/m", "", {}, 1, -1, false}});
  m.ops.push_back({OpCode::kCreate, proto::CreateRequest{"/q-", "", {}, 2, -1, false}});
  m.ops.push_back({OpCode::kCheck, proto::CheckVersionRequest{"/m", 0}});
  m.ops.push_back({OpCode::kSetData, proto::SetDataRequest{"/m", "x", -1, false}});
  m.ops.push_back({OpCode::kDelete, proto::DeleteRequest{"/o", -1}});
  WriteNote n = NoteOf(Req(OpCode::kMulti, m), 0x7, {{"ip", "::1"}}, "::1");
  txn::Txn t;
  t.type = OpCode::kMulti;
  txn::CreateTxn c1, c2;
  c1.path = "/m";
  c2.path = "/q-0000000000";
  t.multi = {{OpCode::kCreate, c1},
             {OpCode::kCreate, c2},
             {OpCode::kCheck, txn::CheckTxn{"/m", 0}},
             {OpCode::kSetData, txn::SetDataTxn{"/m", "x", 1, false}},
             {OpCode::kDelete, txn::DeleteTxn{"/o"}}};
  const std::string who = "session=0x7\tuser=::1\tip=::1\t";
  EXPECT_EQ(Lines(n, t, false), (std::vector<std::string>{
                                    who + "operation=create\tznode=/m\tznode_type=ephemeral\tresult=success",
                                    who + "operation=create\tznode=/q-0000000000\tresult=success",
                                    who + "operation=setData\tznode=/m\tresult=success",
                                    who + "operation=delete\tznode=/o\tresult=success",
                                }));
  for (auto& op : t.multi) op = {OpCode::kError, txn::ErrorTxn{proto::Err::kRuntimeInconsistency}};
  EXPECT_EQ(Lines(n, t, false), std::vector<std::string>{who + "operation=multiOperation\tresult=failure"});
}

TEST(AuditOps, EphemeralDeletion) {
  EXPECT_EQ(FormatEvent(EphemeralDeletion(0x10, "/e", "aviary", true)),
            "session=0x10\tuser=aviary\toperation=ephemeralZNodeDeletionOnSessionCloseOrExpire\tznode=/e\t"
            "result=success");
}

TEST(AuditLogWriter, WritesRotatesAndReopens) {
  const std::string dir = TempDir();
  AuditOptions o;
  o.path = dir + "/zookeeper_audit.log";
  o.max_file_bytes = 1000;
  o.max_backups = 2;
  o.server_user = "tester";
  AuditLog log(o);
  std::string error;
  ASSERT_TRUE(log.Start(&error)) << error;
  for (int i = 0; i < 40; ++i) log.Log(EphemeralDeletion(i, "/node" + std::to_string(i), "tester", true));
  log.Flush();
  EXPECT_EQ(log.written(), 40);
  EXPECT_EQ(log.dropped(), 0);
  EXPECT_TRUE(std::filesystem::exists(o.path + ".1"));
  EXPECT_TRUE(std::filesystem::exists(o.path + ".2"));
  EXPECT_FALSE(std::filesystem::exists(o.path + ".3"));
  EXPECT_LE(std::filesystem::file_size(o.path), 1000u);
  EXPECT_NE(ReadFile(o.path).find("znode=/node39\t"), std::string::npos);
  std::filesystem::rename(o.path, o.path + ".moved");
  log.Reopen();
  log.Log(ServerEvent(kOpServerStop, "tester", Result::kInvoked));
  log.Stop();
  EXPECT_NE(ReadFile(o.path).find("operation=serverStop\tresult=invoked"), std::string::npos);
  log.Log(ServerEvent(kOpServerStop, "tester", Result::kInvoked));  // after Stop: ignored
  EXPECT_EQ(log.written(), 41);
  std::filesystem::remove_all(dir);
}

TEST(AuditLogWriter, FullQueueDropsCountsAndMarksTheGap) {
  const std::string dir = TempDir();
  AuditOptions o;
  o.path = dir + "/a.log";
  o.max_queue_bytes = 4096;
  std::promise<void> disk_back;
  std::shared_future<void> disk = disk_back.get_future().share();
  o.test_before_write = [disk] { disk.wait(); };  // the disk hangs until the producer is done
  AuditLog log(o);
  std::string error;
  ASSERT_TRUE(log.Start(&error));
  // 20000 events of ~260 bytes into a 4 KB queue while the disk hangs: most are
  // dropped, and Log never blocks.
  const std::string big(200, 'p');
  for (int i = 0; i < 20000; ++i) log.Log(EphemeralDeletion(i, "/" + big, "u", true));
  disk_back.set_value();
  log.Flush();
  const int64_t dropped = log.dropped();
  EXPECT_GT(dropped, 19000);
  EXPECT_EQ(log.written() + dropped, 20000);
  log.Log(ServerEvent(kOpServerStop, "u", Result::kInvoked));  // reports the gap first
  log.Stop();
  std::string text = ReadFile(o.path);
  std::smatch m;
  int64_t reported = 0;
  std::string::const_iterator from = text.cbegin();
  std::regex gap(R"(operation=auditEventsDropped\tcount=(\d+)\tresult=failure)");
  while (std::regex_search(from, text.cend(), m, gap)) {
    reported += std::stoll(m[1]);
    from = m.suffix().first;
  }
  EXPECT_EQ(reported, dropped);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace aviary::audit
