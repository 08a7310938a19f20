// java.util.Properties syntax as used for zoo.cfg.
#include "config/properties.h"

#include <gtest/gtest.h>

namespace aviary::config {
namespace {

PropertyList Parse(std::string_view text) {
  PropertyList out;
  std::string error;
  EXPECT_TRUE(ParseProperties(text, &out, &error)) << error;
  return out;
}

using KV = std::pair<std::string, std::string>;

TEST(Properties, AllSeparators) {
  auto p = Parse("a=1\nb: 2\nc 3\nd = 4\ne\t:\t5\nf:=6\ng\n");
  ASSERT_EQ(p.size(), 7u);
  EXPECT_EQ(p[0], KV("a", "1"));
  EXPECT_EQ(p[1], KV("b", "2"));
  EXPECT_EQ(p[2], KV("c", "3"));
  EXPECT_EQ(p[3], KV("d", "4"));
  EXPECT_EQ(p[4], KV("e", "5"));
  EXPECT_EQ(p[5], KV("f", "=6"));  // only one separator is consumed
  EXPECT_EQ(p[6], KV("g", ""));
}

TEST(Properties, CommentsAndBlankLines) {
  auto p = Parse("# comment\n! also comment\n   # indented comment\n\n   \nkey=value # not a comment\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], KV("key", "value # not a comment"));
}

TEST(Properties, LeadingWhitespaceSkippedTrailingKept) {
  auto p = Parse("   key = value  \n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], KV("key", "value  "));
}

TEST(Properties, ContinuationLines) {
  auto p = Parse("list=a,\\\n    b,\\\n    c\nnext=1\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], KV("list", "a,b,c"));
  EXPECT_EQ(p[1], KV("next", "1"));
}

TEST(Properties, EvenBackslashesDoNotContinue) {
  auto p = Parse("path=c:\\\\\nnext=1\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], KV("path", "c:\\"));
}

TEST(Properties, CommentLineEndingInBackslashDoesNotContinue) {
  auto p = Parse("# comment \\\nkey=1\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], KV("key", "1"));
}

TEST(Properties, HashAfterContinuationIsData) {
  auto p = Parse("key=a\\\n#b\n");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0], KV("key", "a#b"));
}

TEST(Properties, Escapes) {
  auto p = Parse("a\\=b=c\\td\nu=\\u0041\\u00e9\nx=\\q\nsp\\ ace=1\n");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], KV("a=b", "c\td"));
  EXPECT_EQ(p[1], KV("u", "A\xc3\xa9"));
  EXPECT_EQ(p[2], KV("x", "q"));
  EXPECT_EQ(p[3], KV("sp ace", "1"));
}

TEST(Properties, CrLfAndCrLineEndings) {
  auto p = Parse("a=1\r\nb=2\rc=3\r\nd=x\\\r\n  y\r\n");
  ASSERT_EQ(p.size(), 4u);
  EXPECT_EQ(p[0], KV("a", "1"));
  EXPECT_EQ(p[1], KV("b", "2"));
  EXPECT_EQ(p[2], KV("c", "3"));
  EXPECT_EQ(p[3], KV("d", "xy"));
}

TEST(Properties, NoTrailingNewlineAndDanglingBackslash) {
  auto p = Parse("a=1\nb=2\\");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1], KV("b", "2"));
}

TEST(Properties, RepeatedKeyLastValueWins) {
  auto p = Parse("a=1\nb=2\na=3\n");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0], KV("a", "3"));
  EXPECT_EQ(p[1], KV("b", "2"));
}

TEST(Properties, MalformedUnicodeEscapeFails) {
  PropertyList out;
  std::string error;
  EXPECT_FALSE(ParseProperties("a=\\u12G4\n", &out, &error));
  EXPECT_NE(error.find("\\uxxxx"), std::string::npos) << error;
  EXPECT_FALSE(ParseProperties("a=\\u12", &out, &error));
}

}  // namespace
}  // namespace aviary::config
