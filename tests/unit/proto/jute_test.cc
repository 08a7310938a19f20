// Primitive Reader/Writer behaviour.
#include "proto/jute.h"

#include <gtest/gtest.h>

#include "test_util.h"

namespace aviary::proto::jute {
namespace {

using testing::Hex;
using testing::ToHex;

TEST(JuteWriter, BigEndianPrimitives) {
  std::string out;
  Writer w(&out);
  w.WriteInt32(0x01020304);
  w.WriteInt32(-2);
  w.WriteInt64(0x0102030405060708LL);
  w.WriteInt64(-1);
  w.WriteBool(true);
  w.WriteBool(false);
  w.WriteString("ab");
  w.WriteBuffer("");
  w.WriteVectorCount(3);
  EXPECT_EQ(ToHex(out),
            "01020304"
            "fffffffe"
            "0102030405060708"
            "ffffffffffffffff"
            "01"
            "00"
            "000000026162"
            "00000000"
            "00000003");
}

TEST(JuteWriter, AppendsAndPatchesFrames) {
  std::string out = "xy";
  Writer w(&out);
  size_t f = w.BeginFrame();
  w.WriteInt32(7);
  w.EndFrame(f);
  EXPECT_EQ(ToHex(out),
            "7879"
            "00000004"
            "00000007");
}

TEST(JuteReader, ReadsWhatWriterWrote) {
  std::string buf = Hex("01020304 fffffffe 0102030405060708 ffffffffffffffff 01 00 02 000000026162 ffffffff");
  Reader r(buf);
  EXPECT_EQ(r.ReadInt32(), 0x01020304);
  EXPECT_EQ(r.ReadInt32(), -2);
  EXPECT_EQ(r.ReadInt64(), 0x0102030405060708LL);
  EXPECT_EQ(r.ReadInt64(), -1);
  EXPECT_TRUE(r.ReadBool());
  EXPECT_FALSE(r.ReadBool());
  EXPECT_TRUE(r.ReadBool());  // any non-zero byte is true, as in Java
  EXPECT_EQ(r.ReadString(), "ab");
  EXPECT_EQ(r.ReadBuffer(), "");  // -1 = null -> empty
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(JuteReader, OverrunIsStickyAndReadsZero) {
  std::string buf = Hex("000000 01");
  Reader r(std::string_view(buf).substr(0, 3));
  EXPECT_EQ(r.ReadInt32(), 0);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_FALSE(r.ReadBool());
  EXPECT_EQ(r.ReadString(), "");
  EXPECT_FALSE(r.ok());
}

TEST(JuteReader, Int64NeedsEightBytes) {
  std::string buf = Hex("00000000 000000");
  Reader r(buf);
  EXPECT_EQ(r.ReadInt64(), 0);
  EXPECT_FALSE(r.ok());
}

TEST(JuteReader, RejectsBadLengths) {
  for (const char* len : {"7fffffff", "80000000", "fffffffe", "00000003"}) {
    std::string buf = Hex(std::string(len) + "6162");
    Reader r(buf);
    EXPECT_EQ(r.ReadBufferView(), "");
    EXPECT_FALSE(r.ok()) << len;
  }
}

TEST(JuteReader, BufferViewPointsIntoInput) {
  std::string buf = Hex("00000003 616263 ff");
  Reader r(buf);
  std::string_view v = r.ReadBufferView();
  EXPECT_EQ(v, "abc");
  EXPECT_EQ(v.data(), buf.data() + 4);
  EXPECT_EQ(r.remaining(), 1u);
}

TEST(JuteReader, VectorCountBoundedByRemainingBytes) {
  {
    std::string buf = Hex("00000002 0000000000000000");  // 8 bytes left
    Reader r(buf);
    EXPECT_EQ(r.ReadVectorCount(4), 2);
    EXPECT_TRUE(r.ok());
  }
  {
    std::string buf = Hex("00000003 0000000000000000");
    Reader r(buf);
    EXPECT_EQ(r.ReadVectorCount(4), 0);
    EXPECT_FALSE(r.ok());
  }
  {
    std::string buf = Hex("ffffffff");  // null vector
    Reader r(buf);
    EXPECT_EQ(r.ReadVectorCount(4), 0);
    EXPECT_TRUE(r.ok());
  }
  for (const char* n : {"fffffffe", "80000000", "7fffffff"}) {
    std::string buf = Hex(std::string(n) + "00000000");
    Reader r(buf);
    EXPECT_EQ(r.ReadVectorCount(1), 0);
    EXPECT_FALSE(r.ok()) << n;
  }
}

TEST(JuteReader, EmptyInput) {
  Reader r(std::string_view{});
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_TRUE(r.ok());
  r.ReadBool();
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace aviary::proto::jute
