#include "tls/x509_name.h"

#include <openssl/objects.h>

#include <string_view>
#include <vector>

namespace aviary::tls {
namespace {

const char* Keyword(int nid) {
  switch (nid) {
    case NID_commonName:
      return "CN";
    case NID_countryName:
      return "C";
    case NID_localityName:
      return "L";
    case NID_stateOrProvinceName:
      return "ST";
    case NID_organizationName:
      return "O";
    case NID_organizationalUnitName:
      return "OU";
    case NID_streetAddress:
      return "STREET";
    case NID_domainComponent:
      return "DC";
    case NID_userId:
      return "UID";
    default:
      return nullptr;
  }
}

bool IsDirectoryString(int type) {
  switch (type) {
    case V_ASN1_PRINTABLESTRING:
    case V_ASN1_T61STRING:
    case V_ASN1_IA5STRING:
    case V_ASN1_GENERALSTRING:
    case V_ASN1_BMPSTRING:
    case V_ASN1_UTF8STRING:
      return true;
    default:
      return false;
  }
}

void AppendUtf8(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xc0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xe0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else {
    out->push_back(static_cast<char>(0xf0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3f)));
  }
}

// The value's characters (BMPString is UCS-2; the others are taken as UTF-8
// bytes, as Java decodes them); bytes that are not UTF-8 stay single units.
std::u32string Chars(const ASN1_STRING* s) {
  const unsigned char* p = ASN1_STRING_get0_data(s);
  size_t n = static_cast<size_t>(ASN1_STRING_length(s));
  std::u32string out;
  if (ASN1_STRING_type(s) == V_ASN1_BMPSTRING) {
    for (size_t i = 0; i + 1 < n; i += 2) out.push_back(static_cast<char32_t>((p[i] << 8) | p[i + 1]));
    return out;
  }
  for (size_t i = 0; i < n;) {
    unsigned char b = p[i];
    size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > n) {
      out.push_back(0xfffd);  // Java's replacement for a malformed sequence
      ++i;
      continue;
    }
    char32_t c = len == 1 ? b : b & (0xff >> (len + 1));
    for (size_t k = 1; k < len; ++k) c = (c << 6) | (p[i + k] & 0x3f);
    out.push_back(c);
    i += len;
  }
  return out;
}

std::string EscapedValue(const ASN1_STRING* s) {
  constexpr std::u32string_view kEscapees = U",=+<>#;\"\\";
  std::u32string buf;
  for (char32_t c : Chars(s)) {
    if (kEscapees.find(c) != std::u32string_view::npos) {
      buf.push_back('\\');
      buf.push_back(c);
    } else if (c == 0) {
      buf += U"\\00";
    } else {
      buf.push_back(c);  // printable or not, Java appends it as is
    }
  }
  auto space = [](char32_t c) { return c == ' ' || c == '\r'; };
  size_t lead = 0;
  while (lead < buf.size() && space(buf[lead])) ++lead;
  size_t trail = buf.size();
  while (trail > 0 && space(buf[trail - 1])) --trail;
  std::string out;
  for (size_t i = 0; i < buf.size(); ++i) {
    if (i < lead || i >= trail) out.push_back('\\');
    AppendUtf8(buf[i], &out);
  }
  return out;
}

std::string HexDer(const ASN1_STRING* s) {
  ASN1_TYPE* t = ASN1_TYPE_new();
  ASN1_TYPE_set1(t, ASN1_STRING_type(s), s);
  unsigned char* der = nullptr;
  int n = i2d_ASN1_TYPE(t, &der);
  ASN1_TYPE_free(t);
  std::string out = "#";
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < n; ++i) {
    out.push_back(kHex[der[i] >> 4]);
    out.push_back(kHex[der[i] & 15]);
  }
  OPENSSL_free(der);
  return out;
}

std::string Ava(const X509_NAME_ENTRY* e) {
  const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(e);
  const char* kw = Keyword(OBJ_obj2nid(obj));
  std::string out;
  if (kw != nullptr) {
    out = kw;
  } else {
    char oid[128];
    OBJ_obj2txt(oid, sizeof oid, obj, 1);
    out = oid;
  }
  out += '=';
  out += (kw == nullptr || !IsDirectoryString(ASN1_STRING_type(value))) ? HexDer(value) : EscapedValue(value);
  return out;
}

}  // namespace

std::string Rfc2253Name(const X509_NAME* name) {
  // Group the entries into RDNs (entries of one set share a set index).
  std::vector<std::vector<const X509_NAME_ENTRY*>> rdns;
  int last_set = -1;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, i);
    int set = X509_NAME_ENTRY_set(e);
    if (rdns.empty() || set != last_set) rdns.emplace_back();
    rdns.back().push_back(e);
    last_set = set;
  }
  std::string out;
  for (size_t i = rdns.size(); i-- > 0;) {
    if (i + 1 < rdns.size()) out += ',';
    for (size_t k = 0; k < rdns[i].size(); ++k) {
      if (k > 0) out += '+';
      out += Ava(rdns[i][k]);
    }
  }
  return out;
}

}  // namespace aviary::tls
