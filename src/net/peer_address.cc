#include "net/peer_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace aviary::net {

std::string PeerString(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {0};
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
    port = ntohs(sin->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    port = ntohs(sin6->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
      in_addr v4{};
      std::memcpy(&v4, sin6->sin6_addr.s6_addr + 12, sizeof v4);
      inet_ntop(AF_INET, &v4, host, sizeof host);
    } else {
      inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
    }
  }
  return std::string(host) + ":" + std::to_string(port);
}

std::string IpOfPeer(const std::string& peer) { return peer.substr(0, peer.rfind(':')); }

std::vector<const addrinfo*> ListenOrder(const addrinfo* res) {
  std::vector<const addrinfo*> out;
  for (int family : {AF_INET, AF_INET6}) {
    for (const addrinfo* ai = res; ai; ai = ai->ai_next) {
      if (ai->ai_family == family) out.push_back(ai);
    }
  }
  return out;
}

}  // namespace aviary::net
