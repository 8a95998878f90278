// Tests for structured logging: field quoting/escaping, the line format written to a file, bound
// fields and level filtering.
#include "shared/log/log.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <vector>

namespace glint::log {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> read_lines(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A scratch directory removed after each test.
class LogFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "glint-log-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    file_ = dir_ / "glint.log";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  fs::path file_;
};

TEST(LogRenderFields, PlainValuesAreUnquoted) {
  EXPECT_EQ(render_fields({}), "");
  EXPECT_EQ(render_fields({{"k", "v"}, {"n", 42}, {"neg", -7}, {"path", "/a/b.img"}}),
            " k=v n=42 neg=-7 path=/a/b.img");
  EXPECT_EQ(render_fields({{"sv", std::string_view("x")}, {"s", std::string("y")}}), " sv=x s=y");
  EXPECT_EQ(render_fields({{"utf8", "caf\xC3\xA9"}}), " utf8=caf\xC3\xA9");
}

TEST(LogRenderFields, QuotesAndEscapes) {
  EXPECT_EQ(render_fields({{"empty", ""}}), " empty=\"\"");
  EXPECT_EQ(render_fields({{"msg", "disk full"}}), " msg=\"disk full\"");
  EXPECT_EQ(render_fields({{"q", "say \"hi\""}}), " q=\"say \\\"hi\\\"\"");
  EXPECT_EQ(render_fields({{"eq", "a=b"}}), " eq=\"a=b\"");
  EXPECT_EQ(render_fields({{"bs", "C:\\x"}}), " bs=\"C:\\\\x\"");
  EXPECT_EQ(render_fields({{"nl", "line1\nline2"}}), " nl=\"line1\\nline2\"");
  EXPECT_EQ(render_fields({{"ctl", "a\tb\rc\x01"}}), " ctl=\"a\\tb\\rc\\x01\"");
  // Keys come from code; they are sanitised rather than quoted so the line stays parseable.
  EXPECT_EQ(render_fields({{"bad key=", "v"}, {"", "v"}}), " bad_key_=v _=v");
}

TEST(LogLevels, Parse) {
  Level l = Level::info;
  EXPECT_TRUE(parse_level("debug", l));
  EXPECT_EQ(l, Level::debug);
  EXPECT_TRUE(parse_level("WARN", l));
  EXPECT_EQ(l, Level::warn);
  EXPECT_TRUE(parse_level("warning", l));
  EXPECT_EQ(l, Level::warn);
  EXPECT_TRUE(parse_level("error", l));
  EXPECT_EQ(l, Level::error);
  EXPECT_TRUE(parse_level("info", l));
  EXPECT_EQ(l, Level::info);
  EXPECT_FALSE(parse_level("verbose", l));
  EXPECT_FALSE(parse_level("", l));
}

TEST_F(LogFileTest, WritesOneLinePerEvent) {
  {
    const Logger lg = Logger::make("store", Level::info, file_.string());
    const Logger req = lg.with({{"req", "r-1"}, {"peer", "10.0.0.2:4000"}});
    req.info("put.done", {{"bytes", 1024}, {"image", "abc"}});
    lg.warn("disk.low", {{"msg", "only 1 GiB left"}});
    req.with({{"attempt", 2}}).error("db.retry");
  }  // the sink flushes when the last copy goes away
  const auto lines = read_lines(file_);
  ASSERT_EQ(lines.size(), 3u);
  const std::regex ts("^ts=\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z ");
  for (const auto& l : lines) EXPECT_TRUE(std::regex_search(l, ts)) << l;
  EXPECT_EQ(lines[0].substr(28), "level=info comp=store event=put.done req=r-1 peer=10.0.0.2:4000 bytes=1024 image=abc");
  EXPECT_EQ(lines[1].substr(28), "level=warn comp=store event=disk.low msg=\"only 1 GiB left\"");
  EXPECT_EQ(lines[2].substr(28), "level=error comp=store event=db.retry req=r-1 peer=10.0.0.2:4000 attempt=2");
}

TEST_F(LogFileTest, WarnAndAboveAreFlushedImmediately) {
  const Logger lg = Logger::make("api", Level::debug, file_.string());
  lg.error("boom");
  const auto lines = read_lines(file_);  // the logger is still alive
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find(" level=error comp=api event=boom"), std::string::npos);
}

TEST_F(LogFileTest, LevelFiltering) {
  {
    const Logger lg = Logger::make("store", Level::warn, file_.string());
    lg.debug("d");
    lg.info("i");
    lg.warn("w");
    lg.with({{"k", "v"}}).info("i2");  // children keep the parent's level
    lg.error("e");
    const Logger dbg = Logger::make("store", Level::debug, (dir_ / "debug.log").string());
    dbg.debug("d");
  }
  const auto lines = read_lines(file_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("event=w"), std::string::npos);
  EXPECT_NE(lines[1].find("event=e"), std::string::npos);
  EXPECT_EQ(read_lines(dir_ / "debug.log").size(), 1u);
}

TEST_F(LogFileTest, AppendsToAnExistingFile) {
  std::ofstream(file_) << "earlier line\n";
  { Logger::make("store", Level::info, file_.string()).info("started"); }
  const auto lines = read_lines(file_);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "earlier line");
}

TEST_F(LogFileTest, QuotedComponentAndEvent) {
  { Logger::make("my comp", Level::info, file_.string()).info("an event"); }
  const auto lines = read_lines(file_);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].substr(28), "level=info comp=\"my comp\" event=\"an event\"");
}

TEST(Logger, NullDiscardsEverything) {
  const Logger lg = Logger::null();
  lg.error("nothing", {{"k", "v"}});
  lg.with({{"a", 1}}).debug("still nothing");
  const Logger unset;  // a default-constructed logger behaves like null()
  unset.info("x");
  SUCCEED();
}

TEST_F(LogFileTest, UnopenableFileFallsBackToStderr) {
  // A path below a regular file cannot be created, not even by root.
  std::ofstream(dir_ / "plain") << "x";
  const std::string bad = (dir_ / "plain" / "glint.log").string();
  ::testing::internal::CaptureStderr();
  { Logger::make("store", Level::info, bad).info("hello"); }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("level=error comp=store event=log.file_open_failed file="), std::string::npos) << err;
  EXPECT_NE(err.find("event=hello"), std::string::npos) << err;
}

}  // namespace
}  // namespace glint::log

namespace glint::log {
TEST(LogThrottle, WritesABurstPerWindowThenCountsWhatItLeftOut) {
  Throttle t(2, std::chrono::seconds(10));
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  uint64_t left_out = 99;
  EXPECT_TRUE(t.allow(t0, &left_out));
  EXPECT_EQ(left_out, 0u);
  EXPECT_TRUE(t.allow(t0 + std::chrono::seconds(1), &left_out));
  EXPECT_FALSE(t.allow(t0 + std::chrono::seconds(2), &left_out));
  EXPECT_FALSE(t.allow(t0 + std::chrono::seconds(9), &left_out));
  EXPECT_TRUE(t.allow(t0 + std::chrono::seconds(10), &left_out));  // a new window
  EXPECT_EQ(left_out, 2u);
  EXPECT_TRUE(t.allow(t0 + std::chrono::seconds(11), &left_out));
  EXPECT_EQ(left_out, 0u);
}
}  // namespace glint::log
