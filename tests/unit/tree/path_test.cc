#include "tree/path.h"

#include <gtest/gtest.h>

namespace aviary::tree {
namespace {

using proto::Err;

TEST(ValidatePath, Table) {
  struct Case {
    const char* path;
    bool ok;
  };
  const Case cases[] = {
      {"/", true},
      {"/a", true},
      {"/a/b", true},
      {"/a.b", true},
      {"/...", true},
      {"/.a", true},
      {"/a..", true},
      {"/a/..b", true},
      {"/zookeeper", true},
      {"/é", true},
      {"", false},
      {"a", false},
      {"a/b", false},
      {"/a/", false},
      {"//", false},
      {"/a//b", false},
      {"/.", false},
      {"/..", false},
      {"/a/.", false},
      {"/a/..", false},
      {"/./a", false},
      {"/../a", false},
      {"/a\x01", false},
      {"/a\x1f", false},
      {"/a\x7f", false},
      {"/\xc2\x80", false},          // U+0080 (C1 control)
      {"/\xc2\x9f", false},          // U+009F
      {"/\xee\x80\x80", false},      // U+E000 private use
      {"/\xef\xbf\xb0", false},      // U+FFF0
      {"/\xf0\x9f\x98\x80", false},  // emoji: a surrogate pair in Java
      {"/\xff", false},              // malformed UTF-8 -> U+FFFD
      {"/\xc2", false},              // truncated sequence
  };
  for (const Case& c : cases) {
    EXPECT_EQ(ValidatePath(c.path, false) == Err::kOk, c.ok) << c.path;
  }
  EXPECT_EQ(ValidatePath(std::string_view("/a\0b", 4), false), Err::kBadArguments);
}

TEST(ValidatePath, Sequential) {
  EXPECT_EQ(ValidatePath("/a/", true), Err::kOk);  // "/a/1"
  EXPECT_EQ(ValidatePath("/a/", false), Err::kBadArguments);
  EXPECT_EQ(ValidatePath("/", true), Err::kOk);
  EXPECT_EQ(ValidatePath("/a//", true), Err::kBadArguments);
}

TEST(PathSplit, ParentAndBase) {
  EXPECT_EQ(ParentOf("/a/b"), "/a");
  EXPECT_EQ(ParentOf("/a"), "");
  EXPECT_EQ(BaseName("/a/b"), "b");
  EXPECT_EQ(NormalizeRoot(""), "/");
  EXPECT_EQ(NormalizeRoot("/x"), "/x");
}

}  // namespace
}  // namespace aviary::tree
