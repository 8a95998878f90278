// glint-api against its own PostgreSQL, which is stopped and started again while requests keep
// coming: during the outage every request gets a prompt 503 (no io thread waits out the retry
// budget), /healthcheck answers and says the database is down, and once PostgreSQL is back the
// API recovers by itself.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "tests/support/pg.hpp"
#include "tests/support/process.hpp"
#include "tests/support/service_process.hpp"

namespace glint::testing {
namespace {

using namespace std::chrono_literals;

std::string env_value(const std::string& file, const std::string& key) {
  const std::string text = read_file(file);
  const auto at = text.find(key + "=");
  if (at == std::string::npos) return "";
  const auto end = text.find('\n', at);
  return text.substr(at + key.size() + 1, end - at - key.size() - 1);
}

class ApiOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!admin_database_url()) GTEST_SKIP() << "no PostgreSQL";
    ASSERT_EQ(pg("start"), 0);
    IniMap ini;
    ini["database"]["connection"] = env_value(dir_ / "pg/env", "GLINT_TEST_DATABASE_URL");
    ini["database"]["connect_timeout"] = "2s";
    ini["auth"]["shared_secret"] = "outage-secret";
    ini["api"]["io_threads"] = "2";
    ASSERT_TRUE(api_.start(ini)) << read_file(api_.log_path());
  }
  void TearDown() override {
    if (api_.running()) {
      EXPECT_EQ(api_.stop(), 0) << read_file(api_.log_path());
    }
    (void)pg("stop");
  }
  int pg(const std::string& cmd) {
    const std::string line = std::string(GLINT_TEST_SOURCE_DIR) + "/tests/support/pg.sh " + cmd + " " + (dir_ / "pg") +
                             " >>" + (dir_ / "pg.log") + " 2>&1";
    return std::system(line.c_str());
  }
  // A request with a short client timeout: a transport error (timeout, drop) is status 0.
  int status(const std::string& target) {
    auto r = api_.client(3s).request("GET", target);
    return r.ok() ? r->status : 0;
  }

  TempDir dir_{"glint-api-outage"};
  ServiceProcess api_{"glint-api", "api", dir_ / "api"};
};

TEST_F(ApiOutageTest, AnOutageIsPrompt503sAndRecoversByItself) {
  ASSERT_EQ(status("/v2/images"), 200);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, unavailable{0}, other{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 6; ++t) {
    load.emplace_back([&] {
      while (!stop) {
        const int s = status("/v2/images?limit=5");
        (s == 200 ? ok : s == 503 ? unavailable : other)++;
      }
    });
  }
  ASSERT_TRUE(wait_for([&] { return ok.load() > 20; }, 20s));
  ASSERT_EQ(pg("pause"), 0);
  // Under load, with the database gone: answers, not hangs. More io threads' worth of requests
  // are answered than the API has, so none of them is held by the database.
  EXPECT_TRUE(wait_for([&] { return unavailable.load() > 50; }, 20s)) << unavailable.load();
  EXPECT_EQ(status("/v2/images"), 503);
  auto health = api_.client(3s).request("GET", "/healthcheck");
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_EQ(health->status, 503);
  EXPECT_EQ(health->body, "database unavailable");
  ASSERT_EQ(pg("resume"), 0);
  const int before = ok.load();
  EXPECT_TRUE(wait_for([&] { return ok.load() > before + 20; }, 30s));
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_EQ(other.load(), 0) << "every request got 200 or 503, none timed out or was dropped";
  EXPECT_EQ(status("/healthcheck"), 200);
  EXPECT_EQ(status("/v2/images"), 200);
}

}  // namespace
}  // namespace glint::testing
