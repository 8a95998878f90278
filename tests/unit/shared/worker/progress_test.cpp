// ProgressReporter: at most one line per interval of clock time, with done/total, rate and ETA.
#include "shared/worker/progress.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "tests/support/fake_clock.hpp"

namespace glint::worker {
namespace {

using namespace std::chrono_literals;

class ProgressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "glint-progress-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::vector<std::string> lines() const {
    std::ifstream in(dir_ / "p.log");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  std::filesystem::path dir_;
  testing::FakeClock clock_;
};

TEST_F(ProgressTest, LogsAtMostOncePerIntervalWithRateAndEta) {
  const auto logger = log::Logger::make("auditor", log::Level::info, (dir_ / "p.log").string());
  ProgressReporter p(clock_, logger, 30s);
  EXPECT_FALSE(p.update(0, 1000));
  clock_.advance(29s);
  EXPECT_FALSE(p.update(290, 1000));
  clock_.advance(1s);
  EXPECT_TRUE(p.update(300, 1000));  // 300 in 30 s: 10/s, 700 left: 70 s
  clock_.advance(10s);
  EXPECT_FALSE(p.update(400, 1000));
  clock_.advance(20s);
  EXPECT_TRUE(p.update(450, 1000));  // 450 in 60 s: 7.5/s, 550 left: 74 s (rounded up)
  clock_.advance(30s);
  EXPECT_TRUE(p.update(1200, 1000));  // more than announced: ETA 0, not negative
  const auto l = lines();
  ASSERT_EQ(l.size(), 3u);
  EXPECT_NE(l[0].find("event=pass.progress done=300 total=1000 percent=30.0 rate=10.0 eta_s=70"), std::string::npos)
      << l[0];
  EXPECT_NE(l[1].find("done=450 total=1000 percent=45.0 rate=7.5 eta_s=74"), std::string::npos) << l[1];
  EXPECT_NE(l[2].find("done=1200 total=1000 percent=120.0 rate=13.3 eta_s=0"), std::string::npos) << l[2];
}

TEST_F(ProgressTest, NoRateYetMeansUnknownEta) {
  const auto logger = log::Logger::make("auditor", log::Level::info, (dir_ / "p.log").string());
  ProgressReporter p(clock_, logger, 0s);
  EXPECT_TRUE(p.update(0, 10));
  const auto l = lines();
  ASSERT_EQ(l.size(), 1u);
  EXPECT_NE(l[0].find("done=0 total=10 percent=0.0 rate=0.0 eta_s=-1"), std::string::npos) << l[0];
}

}  // namespace
}  // namespace glint::worker
