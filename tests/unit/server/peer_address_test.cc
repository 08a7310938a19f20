// Peer address text (issue 6, item 15): IPv4 clients of a dual-stack
// listener must look like IPv4 clients, and a listen address is tried IPv4
// first, as Java resolves it.
#include "net/peer_address.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace aviary::net {
namespace {

sockaddr_storage V4(const char* ip, uint16_t port) {
  sockaddr_storage ss{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
  sin->sin_family = AF_INET;
  sin->sin_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET, ip, &sin->sin_addr), 1);
  return ss;
}

sockaddr_storage V6(const char* ip, uint16_t port) {
  sockaddr_storage ss{};
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  EXPECT_EQ(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1);
  return ss;
}

TEST(PeerAddress, Ipv4) { EXPECT_EQ(PeerString(V4("127.0.0.1", 40000)), "127.0.0.1:40000"); }

TEST(PeerAddress, Ipv4MappedIsPrintedAsIpv4) {
  EXPECT_EQ(PeerString(V6("::ffff:127.0.0.1", 40001)), "127.0.0.1:40001");
  EXPECT_EQ(PeerString(V6("::ffff:10.1.2.3", 1)), "10.1.2.3:1");
  EXPECT_EQ(IpOfPeer(PeerString(V6("::ffff:192.168.0.7", 5))), "192.168.0.7");
}

TEST(PeerAddress, OtherIpv6StaysIpv6) {
  EXPECT_EQ(PeerString(V6("::1", 2181)), "::1:2181");
  EXPECT_EQ(IpOfPeer(PeerString(V6("::1", 2181))), "::1");
  EXPECT_EQ(PeerString(V6("fe80::1", 7)), "fe80::1:7");
  // IPv4-compatible (deprecated ::a.b.c.d) and NAT64 forms are not mapped addresses.
  EXPECT_EQ(IpOfPeer(PeerString(V6("64:ff9b::7f00:1", 7))), "64:ff9b::7f00:1");
}

TEST(PeerAddress, ListenOrderPutsIpv4First) {
  sockaddr_storage v6 = V6("::1", 0), v4 = V4("127.0.0.1", 0);
  addrinfo b{};
  b.ai_family = AF_INET;
  b.ai_addr = reinterpret_cast<sockaddr*>(&v4);
  addrinfo a{};
  a.ai_family = AF_INET6;
  a.ai_addr = reinterpret_cast<sockaddr*>(&v6);
  a.ai_next = &b;  // the resolver said ::1 first, as glibc does for localhost
  auto order = ListenOrder(&a);
  ASSERT_EQ(order.size(), 2u);
  EXPECT_EQ(order[0], &b);
  EXPECT_EQ(order[1], &a);
}

}  // namespace
}  // namespace aviary::net
