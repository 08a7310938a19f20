// metricsProvider.* as ZooKeeper 3.8's PrometheusMetricsProvider reads them.
#include <gtest/gtest.h>

#include "config/zoo_config.h"

namespace aviary::config {
namespace {

ServerConfig Parse(std::string_view text, bool* ok, std::string* error) {
  ServerConfig cfg;
  *ok = ParseZooConfig(text, &cfg, error);
  return cfg;
}

TEST(MetricsConfig, DefaultProviderServesNoHttp) {
  bool ok = false;
  std::string err;
  ServerConfig c = Parse("dataDir=/d\n", &ok, &err);
  ASSERT_TRUE(ok) << err;
  EXPECT_FALSE(c.metrics_provider.prometheus());
  EXPECT_EQ(c.metrics_provider.http_port, 7000);
  EXPECT_EQ(c.metrics_provider.http_host, "0.0.0.0");
}

TEST(MetricsConfig, PrometheusProviderKeys) {
  bool ok = false;
  std::string err;
  ServerConfig c = Parse(
      "dataDir=/d\nmetricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"
      "metricsProvider.httpHost=127.0.0.1\nmetricsProvider.httpPort=7123\nmetricsProvider.exportJvmInfo=false\n"
      "metricsProvider.numWorkerThreads=4\n",
      &ok, &err);
  ASSERT_TRUE(ok) << err;
  EXPECT_TRUE(c.metrics_provider.prometheus());
  EXPECT_EQ(c.metrics_provider.http_host, "127.0.0.1");
  EXPECT_EQ(c.metrics_provider.http_port, 7123);
  EXPECT_FALSE(c.metrics_provider.export_jvm_info);
  EXPECT_TRUE(c.warnings.empty()) << c.warnings[0];
}

TEST(MetricsConfig, BadValuesStopTheStart) {
  bool ok = true;
  std::string err;
  Parse("dataDir=/d\nmetricsProvider.httpPort=seventy\n", &ok, &err);
  EXPECT_FALSE(ok);
  EXPECT_NE(err.find("metricsProvider.httpPort"), std::string::npos) << err;
  Parse("dataDir=/d\nmetricsProvider.className=com.example.MyProvider\n", &ok, &err);
  EXPECT_FALSE(ok);
  EXPECT_NE(err.find("com.example.MyProvider"), std::string::npos) << err;
}

TEST(MetricsConfig, HttpsKeysOfLaterVersionsAreWarnings) {
  bool ok = false;
  std::string err;
  ServerConfig c = Parse("dataDir=/d\nmetricsProvider.httpsPort=7443\n", &ok, &err);
  ASSERT_TRUE(ok) << err;
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("metricsProvider.httpsPort"), std::string::npos);
}

}  // namespace
}  // namespace aviary::config
