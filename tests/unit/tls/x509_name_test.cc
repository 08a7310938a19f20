// Rfc2253Name: a subject as Java's X500Principal.getName() prints it. The
// expected strings were printed by Java 17 for the same names
// (tests/security/test_tls_x509.py checks more against a live JVM).
#include "tls/x509_name.h"

#include <gtest/gtest.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

namespace aviary::tls {
namespace {

struct Ava {
  int nid;
  int type;  // V_ASN1_UTF8STRING, V_ASN1_PRINTABLESTRING, ...
  std::string value;
  bool joins_previous = false;  // a further AVA of the previous RDN
};

// Builds a name in DER order (most significant RDN first).
std::string Format(const std::vector<Ava>& avas) {
  X509_NAME* n = X509_NAME_new();
  for (const Ava& a : avas) {
    X509_NAME_add_entry_by_NID(n, a.nid, a.type, reinterpret_cast<const unsigned char*>(a.value.data()),
                               static_cast<int>(a.value.size()), -1, a.joins_previous ? -1 : 0);
  }
  std::string out = Rfc2253Name(n);
  X509_NAME_free(n);
  return out;
}

constexpr int kUtf8 = V_ASN1_UTF8STRING;

TEST(Rfc2253Name, OrderAndKeywords) {
  EXPECT_EQ(Format({{NID_organizationName, kUtf8, "Example"},
                    {NID_organizationalUnitName, kUtf8, "eng"},
                    {NID_commonName, kUtf8, "alice"}}),
            "CN=alice,OU=eng,O=Example");
  EXPECT_EQ(Format({{NID_countryName, V_ASN1_PRINTABLESTRING, "US"},
                    {NID_stateOrProvinceName, kUtf8, "CA"},
                    {NID_localityName, kUtf8, "SF"},
                    {NID_streetAddress, kUtf8, "1 Main St"},
                    {NID_domainComponent, V_ASN1_IA5STRING, "com"},
                    {NID_userId, kUtf8, "u1"}}),
            "UID=u1,DC=com,STREET=1 Main St,L=SF,ST=CA,C=US");
  EXPECT_EQ(Format({}), "");
}

TEST(Rfc2253Name, EscapesAsJava) {
  // Java escapes , = + < > # ; " \ anywhere, and leading/trailing spaces.
  EXPECT_EQ(Format({{NID_countryName, V_ASN1_PRINTABLESTRING, "US"},
                    {NID_organizationName, kUtf8, "Example, Inc."},
                    {NID_organizationalUnitName, kUtf8, "R&D + QA"},
                    {NID_commonName, kUtf8, "  alice =#; <x> \"q\" \\ "}}),
            "CN=\\ \\ alice \\=\\#\\; \\<x\\> \\\"q\\\" \\\\\\ ,OU=R&D \\+ QA,O=Example\\, Inc.,C=US");
  EXPECT_EQ(Format({{NID_commonName, kUtf8, "#hash"}, {NID_localityName, kUtf8, "trail "}}), "L=trail\\ ,CN=\\#hash");
  EXPECT_EQ(Format({{NID_commonName, kUtf8, std::string("a\0b", 3)}}), "CN=a\\00b");
}

TEST(Rfc2253Name, OidsAsHexDerAndMultiValuedRdns) {
  EXPECT_EQ(Format({{NID_domainComponent, V_ASN1_IA5STRING, "com"},
                    {NID_domainComponent, V_ASN1_IA5STRING, "example"},
                    {NID_commonName, kUtf8, "multi"},
                    {NID_userId, kUtf8, "u1", true},
                    {NID_pkcs9_emailAddress, V_ASN1_IA5STRING, "a@b.c"}}),
            "1.2.840.113549.1.9.1=#16056140622e63,CN=multi+UID=u1,DC=example,DC=com");
  EXPECT_EQ(Format({{NID_commonName, kUtf8, "Ünïcødé 名前"},
                    {NID_title, kUtf8, "boss"},
                    {NID_serialNumber, V_ASN1_PRINTABLESTRING, "123"},
                    {NID_streetAddress, kUtf8, "1 Main St"}}),
            "STREET=1 Main St,2.5.4.5=#1303313233,2.5.4.12=#0c04626f7373,CN=Ünïcødé 名前");
}

TEST(Rfc2253Name, BmpStringIsDecoded) {
  std::string bmp("\0a\0\xe9", 4);  // "aé" in UCS-2
  EXPECT_EQ(Format({{NID_commonName, V_ASN1_BMPSTRING, bmp}}), "CN=aé");
}

}  // namespace
}  // namespace aviary::tls
