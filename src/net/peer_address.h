// Socket addresses as the rest of the server sees them: the peer string
// "ip:port" of a connection (its ip part feeds `ip` ACLs, maxClientCnxns and
// the four-letter words), and the order in which a configured listen
// address's resolutions are tried.
//
// Owns: the one place a sockaddr becomes text. An IPv4 client of a
// dual-stack (IPv6 wildcard) listener arrives as the IPv4-mapped address
// ::ffff:a.b.c.d; it is printed as a.b.c.d, as Java (and so ZooKeeper) does,
// so that `ip:127.0.0.1` ACLs and per-IP limits see the same client the
// same way whichever listener it came through.
// Thread use: pure functions.
#pragma once

#include <netdb.h>
#include <sys/socket.h>

#include <string>
#include <vector>

namespace aviary::net {

// "a.b.c.d:port" for IPv4 and IPv4-mapped IPv6 peers, "<ipv6>:port" (no
// brackets) for other IPv6 peers, ":0" for other families.
std::string PeerString(const sockaddr_storage& ss);

// The ip part of a PeerString (everything before the last ':').
std::string IpOfPeer(const std::string& peer);

// getaddrinfo results in the order a listener should try them: IPv4 first,
// then IPv6, each in resolver order. Java resolves a host name to its first
// address with IPv4 preferred (java.net.preferIPv6Addresses=false), so
// ZooKeeper's clientPortAddress=localhost listens on 127.0.0.1, not ::1.
std::vector<const addrinfo*> ListenOrder(const addrinfo* res);

}  // namespace aviary::net
