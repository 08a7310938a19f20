// A certificate subject as Java's X500Principal.getName() prints it
// (RFC 2253 form, sun.security.x509.X500Name.getRFC2253Name): that string
// is ZooKeeper's X509AuthenticationProvider id, so x509 ACLs written for
// ZooKeeper match here byte for byte.
//
// Rules (Java's AVA.toRFC2253String): RDNs last to first, joined by ','; the
// AVAs of a multi-valued RDN joined by '+', in encoded order; keywords CN C
// L ST O OU STREET DC UID, every other attribute as its dotted OID; a
// dotted-OID attribute or a value that is not a directory string is '#' +
// lowercase hex of its DER; string values escape , = + < > # ; " \ with a
// backslash, NUL as \00, leading and trailing spaces (and CR) with a backslash.
// Thread use: pure functions.
#pragma once

#include <openssl/x509.h>

#include <string>

namespace aviary::tls {

std::string Rfc2253Name(const X509_NAME* name);

}  // namespace aviary::tls
