#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics/http_exporter.h"

namespace aviary::metrics {
namespace {

// One HTTP/1.0 request over loopback; the whole response.
std::string Get(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return "";
  }
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n";
  if (write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    close(fd);
    return "";
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

TEST(PrometheusExporter, ServesMetricsWithFreshGauges) {
  Registry r;
  r.AddCounter("commit_count").Add(4);
  int calls = 0;
  PrometheusExporter ex(r, [&calls] {
    ++calls;
    return std::vector<GaugeSample>{{"znode_count", static_cast<double>(calls), ""}};
  });
  std::string err;
  ASSERT_TRUE(ex.Start("127.0.0.1", 0, &err)) << err;
  ASSERT_GT(ex.port(), 0);
  std::string first = Get(ex.port(), "/metrics");
  EXPECT_NE(first.find("200 OK"), std::string::npos) << first;
  EXPECT_NE(first.find("text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(first.find("commit_count 4.0\n"), std::string::npos);
  EXPECT_NE(first.find("znode_count 1.0\n"), std::string::npos);
  EXPECT_NE(Get(ex.port(), "/metrics").find("znode_count 2.0\n"), std::string::npos);
  EXPECT_NE(Get(ex.port(), "/other").find("404"), std::string::npos);
  ex.Stop();
}

TEST(PrometheusExporter, BusyPortIsAnErrorNotACrash) {
  Registry r;
  PrometheusExporter first(r, nullptr);
  std::string err;
  ASSERT_TRUE(first.Start("127.0.0.1", 0, &err)) << err;
  PrometheusExporter second(r, nullptr);
  EXPECT_FALSE(second.Start("127.0.0.1", first.port(), &err));
  EXPECT_NE(err.find(std::to_string(first.port())), std::string::npos) << err;
  // The first one still answers.
  EXPECT_NE(Get(first.port(), "/metrics").find("200 OK"), std::string::npos);
}

}  // namespace
}  // namespace aviary::metrics
