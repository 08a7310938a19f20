#include "client/watches.h"

#include <gtest/gtest.h>

namespace aviary::client {
namespace {

using proto::Err;

proto::Request Req(proto::RequestBody body) {
  proto::Request r;
  r.body = std::move(body);
  return r;
}

TEST(WatchRegistry, RecordsWhatRepliesSetAndEventsFire) {
  WatchRegistry w;
  EXPECT_TRUE(w.empty());
  w.OnReply(Req(proto::GetDataRequest{"/d", true}), Err::kOk);
  w.OnReply(Req(proto::GetDataRequest{"/nowatch", false}), Err::kOk);
  w.OnReply(Req(proto::ExistsRequest{"/missing", true}), Err::kNoNode);
  w.OnReply(Req(proto::GetChildrenRequest{"/c", true}), Err::kOk);
  w.OnReply(Req(proto::GetChildrenRequest{"/failed", true}), Err::kNoNode);
  w.OnReply(Req(proto::AddWatchRequest{"/p", 0}), Err::kOk);
  w.OnReply(Req(proto::AddWatchRequest{"/r", 1}), Err::kOk);
  auto sw = w.ToSetWatches(42);
  EXPECT_EQ(sw.relativeZxid, 42);
  EXPECT_EQ(sw.dataWatches, std::vector<std::string>{"/d"});
  EXPECT_EQ(sw.existWatches, std::vector<std::string>{"/missing"});
  EXPECT_EQ(sw.childWatches, std::vector<std::string>{"/c"});
  EXPECT_EQ(sw.persistentWatches, std::vector<std::string>{"/p"});
  EXPECT_EQ(sw.persistentRecursiveWatches, std::vector<std::string>{"/r"});

  w.OnEvent({static_cast<int32_t>(proto::EventType::kNodeDataChanged), 3, "/d"});
  w.OnEvent({static_cast<int32_t>(proto::EventType::kNodeCreated), 3, "/missing"});
  w.OnEvent({static_cast<int32_t>(proto::EventType::kNodeChildrenChanged), 3, "/c"});
  w.OnEvent({static_cast<int32_t>(proto::EventType::kNodeDataChanged), 3, "/p"});  // persistent stays
  sw = w.ToSetWatches(0);
  EXPECT_TRUE(sw.dataWatches.empty() && sw.existWatches.empty() && sw.childWatches.empty());
  EXPECT_EQ(sw.persistentWatches.size(), 1u);
  w.OnRemoved("/p", static_cast<int32_t>(proto::WatcherType::kAny));
  w.OnRemoved("/r", static_cast<int32_t>(proto::WatcherType::kAny));
  EXPECT_TRUE(w.empty());
}

TEST(Chroot, RequestAndReplyPaths) {
  proto::Request r = Req(proto::CreateRequest{"/a", "", {}, 0, -1, false});
  ChrootRequest("/root", &r);
  EXPECT_EQ(std::get<proto::CreateRequest>(r.body).path, "/root/a");
  proto::MultiRequest m;
  m.ops.push_back({proto::OpCode::kDelete, proto::DeleteRequest{"/x", -1}});
  r = Req(m);
  ChrootRequest("/root", &r);
  EXPECT_EQ(std::get<proto::DeleteRequest>(std::get<proto::MultiRequest>(r.body).ops[0].body).path, "/root/x");
  r = Req(proto::GetEphemeralsRequest{"/"});
  ChrootRequest("/root", &r);
  EXPECT_EQ(std::get<proto::GetEphemeralsRequest>(r.body).prefixPath, "/root");

  proto::ResponseBody body = proto::Create2Response{"/root/a0001", {}};
  UnchrootReply("/root", &body);
  EXPECT_EQ(std::get<proto::Create2Response>(body).path, "/a0001");
  body = proto::GetEphemeralsResponse{{"/root/e", "/root"}};
  UnchrootReply("/root", &body);
  EXPECT_EQ(std::get<proto::GetEphemeralsResponse>(body).ephemerals, (std::vector<std::string>{"/e", "/"}));
}

}  // namespace
}  // namespace aviary::client
