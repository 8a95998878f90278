// Tests for the INI configuration: parsing, precedence, error reporting, value parsers, the sample
// rendered from the catalog, and the standard command-line flags.
#include "shared/config/config.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace glint::config {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

// A scratch directory removed after each test.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "glint-config-test-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  fs::path dir_;
};

Config parse_ok(std::string_view text) {
  auto r = Config::parse(text, "test.conf");
  if (auto* errs = std::get_if<std::vector<ConfigError>>(&r)) {
    std::string all;
    for (const auto& e : *errs) all += e.to_string() + "\n";
    ADD_FAILURE() << "unexpected errors:\n" << all;
    return std::get<Config>(Config::parse("", "empty"));
  }
  return std::get<Config>(std::move(r));
}

std::vector<ConfigError> errors_of(std::variant<Config, std::vector<ConfigError>> r) {
  if (!std::holds_alternative<std::vector<ConfigError>>(r)) {
    ADD_FAILURE() << "expected errors, got a config";
    return {};
  }
  return std::get<std::vector<ConfigError>>(std::move(r));
}

// "file:line" plus the start of the message, for compact comparisons.
std::vector<std::string> summarize(const std::vector<ConfigError>& errs) {
  std::vector<std::string> out;
  for (const auto& e : errs) out.push_back(e.file + ":" + std::to_string(e.line) + ": " + e.message.substr(0, 20));
  return out;
}

TEST_F(ConfigTest, MissingOptionsYieldDefaults) {
  const Config c = parse_ok("");
  EXPECT_EQ(c.get_string("DEFAULT", "log_level"), "info");
  EXPECT_EQ(c.get_string("database", "connection"), "postgresql://glint@127.0.0.1:5432/glint");
  EXPECT_EQ(c.get_int("database", "pool_size"), 4);
  EXPECT_EQ(c.get_duration("database", "connect_timeout"), 5s);
  EXPECT_EQ(c.get_duration("auth", "max_clock_skew"), 300s);
  EXPECT_EQ(c.get_int("store", "bind_port"), 0);
  EXPECT_EQ(c.get_size("store", "block_size"), 1u << 20);
  EXPECT_EQ(c.get_size("store", "reserve"), 1ull << 30);
  EXPECT_EQ(c.get_size("store", "max_header_bytes"), 8192u);
  EXPECT_TRUE(c.get_bool("store", "fsync"));
  EXPECT_DOUBLE_EQ(c.get_double("store", "weight"), 1.0);
  EXPECT_EQ(c.get_string("auth", "shared_secret"), "");
}

TEST_F(ConfigTest, GoodFileWithAllTypes) {
  const Config c = parse_ok(
      "\xEF\xBB\xBF# leading comment\n"
      "; another comment\n"
      "\n"
      "[DEFAULT]\n"
      "log_level = debug\r\n"
      "  node_name=node-1  \n"
      "log_file =\n"
      "[store]\n"
      "bind_port = 9292\n"
      "weight = 2.5\n"
      "block_size = 64K\n"
      "reserve = 10MiB\n"
      "fsync = Off\n"
      "read_timeout = 500ms\n"
      "idle_timeout = 2\n"
      "heartbeat_interval = 1d\n"
      "advertise_address = 10.0.0.1:9292 # not a comment: kept verbatim\n"
      "[database]\n"
      "connect_timeout = 10m\n"
      "retry_budget = 2h\n"
      "[store]\n"
      "zone = rack-2\n");
  EXPECT_EQ(c.get_string("DEFAULT", "log_level"), "debug");
  EXPECT_EQ(c.get_string("DEFAULT", "node_name"), "node-1");
  EXPECT_EQ(c.get_string("DEFAULT", "log_file"), "");
  EXPECT_EQ(c.get_int("store", "bind_port"), 9292);
  EXPECT_DOUBLE_EQ(c.get_double("store", "weight"), 2.5);
  EXPECT_EQ(c.get_size("store", "block_size"), 64u * 1024);
  EXPECT_EQ(c.get_size("store", "reserve"), 10u << 20);
  EXPECT_FALSE(c.get_bool("store", "fsync"));
  EXPECT_EQ(c.get_duration("store", "read_timeout"), 500ms);
  EXPECT_EQ(c.get_duration("store", "idle_timeout"), 2s);
  EXPECT_EQ(c.get_duration("store", "heartbeat_interval"), 24h);
  EXPECT_EQ(c.get_string("store", "advertise_address"), "10.0.0.1:9292 # not a comment: kept verbatim");
  EXPECT_EQ(c.get_duration("database", "connect_timeout"), 10min);
  EXPECT_EQ(c.get_duration("database", "retry_budget"), 2h);
  EXPECT_EQ(c.get_string("store", "zone"), "rack-2");
  EXPECT_EQ(c.get_string("store", "reserve"), "10MiB");  // any option reads as its raw text
}

// A file that holds a secret (the shared secret, a database password) and that group or others
// can read is a warning with file and line, an error with strict_permissions; 0600 is fine.
TEST_F(ConfigTest, SecretsInFilesOthersCanReadAreWarnedOrRefused) {
  const auto open_file = write("open.conf", "[store]\nzone = a\n[auth]\nshared_secret = s3cret-value\n");
  fs::permissions(open_file, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  auto r = Config::load({open_file}, {});
  ASSERT_TRUE(std::holds_alternative<Config>(r));
  const auto& w = std::get<Config>(r).warnings();
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0].file, open_file);
  EXPECT_EQ(w[0].line, 4);
  EXPECT_NE(w[0].message.find("mode 0644"), std::string::npos) << w[0].message;
  EXPECT_EQ(w[0].to_string().find("s3cret-value"), std::string::npos);  // never the value itself
  auto strict = Config::load({open_file}, {"strict_permissions=true"});
  ASSERT_TRUE(std::holds_alternative<std::vector<ConfigError>>(strict));
  EXPECT_NE(std::get<std::vector<ConfigError>>(strict)[0].message.find("chmod 600"), std::string::npos);

  fs::permissions(open_file, fs::perms::owner_read | fs::perms::owner_write);
  auto private_ok = Config::load({open_file}, {"strict_permissions=true"});
  ASSERT_TRUE(std::holds_alternative<Config>(private_ok));
  EXPECT_TRUE(std::get<Config>(private_ok).warnings().empty());

  const auto url = write("db.conf", "[database]\nconnection = postgresql://glint:pw@db:5432/glint\n");
  fs::permissions(url, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  EXPECT_EQ(std::get<Config>(Config::load({url}, {})).warnings().size(), 1u);
  const auto plain = write("db2.conf", "[database]\nconnection = postgresql://glint@db:5432/glint\n");
  fs::permissions(plain, fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read);
  EXPECT_TRUE(std::get<Config>(Config::load({plain}, {})).warnings().empty());  // no password: no secret
  // A bad value of a connection string with a password is reported without it.
  const auto bad = write("bad.conf", "[database]\nconnection = postgresql://glint:pw@db:5432/glint\npool_size = x\n");
  auto errs = Config::load({bad}, {"database.connection=postgresql://u:hunter2@h/d", "database.pool_size=0"});
  ASSERT_TRUE(std::holds_alternative<std::vector<ConfigError>>(errs));
  for (const auto& e : std::get<std::vector<ConfigError>>(errs)) EXPECT_EQ(e.message.find("hunter2"), std::string::npos);
}

TEST_F(ConfigTest, LaterFilesWinAndOverridesWinOverFiles) {
  const auto a = write("a.conf", "[store]\nzone = a\nio_threads = 8\n[DEFAULT]\nnode_name = from-a\n");
  const auto b = write("b.conf", "[store]\nzone = b\n");
  auto r = Config::load({a, b}, {"store.io_threads=16", "node_name = from-cli", "store.io_threads=32"});
  ASSERT_TRUE(std::holds_alternative<Config>(r));
  const auto& c = std::get<Config>(r);
  EXPECT_EQ(c.get_string("store", "zone"), "b");
  EXPECT_EQ(c.get_int("store", "io_threads"), 32);  // the last override wins
  EXPECT_EQ(c.get_string("DEFAULT", "node_name"), "from-cli");
  EXPECT_EQ(c.get_int("database", "pool_size"), 4);
}

TEST_F(ConfigTest, EveryBadLineIsReportedWithFileAndLine) {
  const auto errs = errors_of(Config::parse(
      "orphan = 1\n"              // 1: before any section
      "[DEFAULT]\n"               // 2
      "this is garbage\n"         // 3
      "[nosuch]\n"                // 4: unknown section
      "whatever = 1\n"            // 5: inside an unknown section: not reported again
      "[store]\n"                 // 6
      "no_such_option = 1\n"      // 7
      "io_threads = many\n"       // 8
      "io_threads = 2\n"          // 9: duplicate (even though line 8 was bad)
      "fsync = maybe\n"           // 10
      "block_size = 10X\n"        // 11
      "read_timeout = 1w\n"       // 12
      "weight = heavy\n"          // 13
      "bind_port = 65536\n"       // 14: out of range
      "weight = -1\n"             // 15: duplicate key
      "[DEFAULT]\n"               // 16
      "log_level = verbose\n"     // 17: not one of the choices
      "[broken\n"                 // 18
      "= value\n"                 // 19: no key
      "[store]\n"                 // 20: a section may be reopened...
      "zone = a\n"                // 21
      "[store]\n"                 // 22
      "zone = b\n",               // 23: ...but a key still may not be set twice in one file
      "bad.conf"));
  const std::vector<std::string> expected = {
      "bad.conf:1: option 'orphan' appe", "bad.conf:3: expected '[section]'",
      "bad.conf:4: unknown section [nos", "bad.conf:7: unknown option 'no_s",
      "bad.conf:8: bad value 'many' for", "bad.conf:9: option 'io_threads' ",
      "bad.conf:10: bad value 'maybe' fo", "bad.conf:11: bad value '10X' for ",
      "bad.conf:12: bad value '1w' for [", "bad.conf:13: bad value 'heavy' fo",
      "bad.conf:14: bad value '65536' fo", "bad.conf:15: option 'weight' in s",
      "bad.conf:17: bad value 'verbose' ", "bad.conf:18: malformed section he",
      "bad.conf:19: expected '[section]'", "bad.conf:23: option 'zone' in sec",
  };
  EXPECT_EQ(summarize(errs), expected);
  ASSERT_EQ(errs.size(), expected.size());
  EXPECT_NE(errs[4].message.find("expected int (1..256)"), std::string::npos) << errs[4].message;
  EXPECT_NE(errs[5].message.find("first on line 8"), std::string::npos) << errs[5].message;
  EXPECT_NE(errs[2].message.find("known: [DEFAULT], [database], [auth], [store]"), std::string::npos);
}

TEST_F(ConfigTest, ColonSeparatorGetsAHint) {
  const auto errs = errors_of(Config::parse("[store]\nzone: a\n", "x.conf"));
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].line, 2);
  EXPECT_NE(errs[0].message.find("use '=' rather than ':'"), std::string::npos);
}

TEST_F(ConfigTest, ErrorsFromFilesAndOverridesAreAllCollected) {
  const auto good = write("good.conf", "[store]\nzone = z\n");
  const auto bad = write("bad.conf", "[store]\n\nio_threads = 0\n");
  const std::string missing = (dir_ / "missing.conf").string();
  const auto errs = errors_of(Config::load(
      {good, missing, bad, dir_.string()},
      {"store.zone=ok", "nodot", "nosuch.key=1", "store.nosuch=1", "store.fsync=perhaps", "=1", "pool_size=2"}));
  const std::vector<std::string> expected = {
      missing + ":0: cannot read file: No",
      bad + ":3: bad value '0' for [s",
      dir_.string() + ":0: cannot read file: Is",
      "<command line>:2: malformed override; ",
      "<command line>:3: unknown section [nos",
      "<command line>:4: unknown option 'nosu",
      "<command line>:5: bad value 'perhaps' ",
      "<command line>:6: malformed override; ",
      "<command line>:7: unknown option 'pool",  // a bare key means [DEFAULT]
  };
  EXPECT_EQ(summarize(errs), expected);
}

TEST_F(ConfigTest, ErrorToString) {
  EXPECT_EQ((ConfigError{"a.conf", 3, "boom"}).to_string(), "a.conf:3: boom");
  EXPECT_EQ((ConfigError{"a.conf", 0, "cannot read file"}).to_string(), "a.conf: cannot read file");
  EXPECT_EQ((ConfigError{"<command line>", 1, "x"}).to_string(), "<command line>:1: x");
}

TEST_F(ConfigTest, AccessorsRejectUnknownOptionsAndWrongTypes) {
  const Config c = parse_ok("");
  EXPECT_THROW((void)c.get_string("store", "nosuch"), std::out_of_range);
  EXPECT_THROW((void)c.get_int("nosuch", "io_threads"), std::out_of_range);
  EXPECT_THROW((void)c.get_int("store", "zone"), std::out_of_range);
  EXPECT_THROW((void)c.get_bool("store", "io_threads"), std::out_of_range);
  EXPECT_THROW((void)c.get_size("store", "read_timeout"), std::out_of_range);
  EXPECT_THROW((void)c.get_duration("store", "reserve"), std::out_of_range);
  EXPECT_THROW((void)c.get_double("store", "fsync"), std::out_of_range);
}

TEST_F(ConfigTest, CustomSpecsAndSecrets) {
  const std::vector<OptionSpec> specs = {
      {.section = "s", .name = "token", .default_value = "alpha", .help = "A secret.", .secret = true,
       .choices = {"alpha", "beta"}},
      {.section = "s", .name = "ratio", .type = Type::Double, .default_value = "0.5", .help = "", .min = 0, .max = 1},
      {.section = "s", .name = "buf", .type = Type::Size, .default_value = "4K", .help = "", .max = 1 << 20},
  };
  const auto errs = errors_of(Config::parse("[s]\ntoken = gamma\nratio = 1.5\nbuf = 2M\n", "c.conf", specs));
  ASSERT_EQ(errs.size(), 3u);
  EXPECT_EQ(errs[0].to_string(), "c.conf:2: bad value for [s] token: expected string (one of: alpha, beta)");
  EXPECT_EQ(errs[1].to_string(), "c.conf:3: bad value '1.5' for [s] ratio: expected double (0..1)");
  EXPECT_EQ(errs[2].to_string(), "c.conf:4: bad value '2M' for [s] buf: expected size (<= 1M)");

  const std::vector<OptionSpec> broken = {{.section = "s", .name = "n", .type = Type::Int, .default_value = "x",
                                           .help = ""}};
  const auto cat = errors_of(Config::parse("", "c.conf", broken));
  ASSERT_EQ(cat.size(), 1u);
  EXPECT_EQ(cat[0].file, "<catalog>");
}

TEST(ConfigParsers, Size) {
  uint64_t v = 0;
  const std::vector<std::pair<std::string, uint64_t>> good = {
      {"0", 0},           {"512", 512},       {"512B", 512},           {"64K", 64 << 10}, {"64k", 64 << 10},
      {"10M", 10 << 20},  {"10MB", 10 << 20}, {"10MiB", 10 << 20},     {"2G", 2ull << 30}, {"1T", 1ull << 40},
      {"16777215T", 16777215ull << 40},       {"18446744073709551615", UINT64_MAX},
  };
  for (const auto& [text, want] : good) {
    EXPECT_TRUE(parse_size(text, v)) << text;
    EXPECT_EQ(v, want) << text;
  }
  for (const char* bad : {"", "M", "-1", "+1", " 1", "1 ", "1.5G", "10 M", "10X", "10iB", "10Bi", "10MBB", "0x10",
                          "99999999999T", "16777216T", "18446744073709551616", "1P"}) {
    EXPECT_FALSE(parse_size(bad, v)) << bad;
  }
}

TEST(ConfigParsers, Duration) {
  std::chrono::milliseconds v{};
  const std::vector<std::pair<std::string, std::chrono::milliseconds>> good = {
      {"500ms", 500ms}, {"30s", 30s}, {"45", 45s}, {"0", 0ms},   {"10m", 10min},
      {"2h", 2h},       {"1d", 24h},  {"1D", 24h}, {"106751991167d", std::chrono::milliseconds(106751991167LL * 86400000)},
  };
  for (const auto& [text, want] : good) {
    EXPECT_TRUE(parse_duration(text, v)) << text;
    EXPECT_EQ(v, want) << text;
  }
  for (const char* bad : {"", "s", "-1s", "1.5s", "1w", "1 s", "10sec", "1h30m", "106751991168d",
                          "9223372036854775808ms", "99999999999999999999"}) {
    EXPECT_FALSE(parse_duration(bad, v)) << bad;
  }
}

TEST(ConfigParsers, BoolIntDouble) {
  bool b = false;
  for (const char* t : {"true", "TRUE", "Yes", "on", "1"}) {
    EXPECT_TRUE(parse_bool(t, b) && b) << t;
  }
  for (const char* f : {"false", "No", "OFF", "0"}) {
    EXPECT_TRUE(parse_bool(f, b) && !b) << f;
  }
  for (const char* bad : {"", "y", "2", "truee", " true"}) EXPECT_FALSE(parse_bool(bad, b)) << bad;

  int64_t i = 0;
  EXPECT_TRUE(parse_int("-42", i));
  EXPECT_EQ(i, -42);
  for (const char* bad : {"", "4x", "9223372036854775808", "1.0", "+1"}) EXPECT_FALSE(parse_int(bad, i)) << bad;
  double d = 0;
  EXPECT_TRUE(parse_double("1e3", d));
  EXPECT_DOUBLE_EQ(d, 1000);
  for (const char* bad : {"", "nan", "inf", "1,5", "1e999"}) EXPECT_FALSE(parse_double(bad, d)) << bad;
}

TEST(ConfigSample, RoundTripsToAllDefaults) {
  const std::string sample = render_sample();
  EXPECT_TRUE(std::holds_alternative<Config>(Config::parse(sample, "sample")));

  // Uncommenting every "#name = default" line must still give exactly the defaults.
  std::istringstream in(sample);
  std::string line, uncommented;
  int options = 0;
  while (std::getline(in, line)) {
    const bool option_line = line.size() > 1 && line[0] == '#' && line[1] != ' ' && line.find(" =") != std::string::npos;
    options += option_line;
    uncommented += (option_line ? line.substr(1) : line) + "\n";
  }
  EXPECT_EQ(options, static_cast<int>(catalog().size()));
  auto r = Config::parse(uncommented, "uncommented");
  ASSERT_TRUE(std::holds_alternative<Config>(r));
  const auto& c = std::get<Config>(r);
  for (const auto& s : catalog()) EXPECT_EQ(c.get_string(s.section, s.name), s.default_value) << s.name;
}

TEST(ConfigSample, Layout) {
  const std::string sample = render_sample();
  EXPECT_TRUE(sample.starts_with("# glint configuration"));
  EXPECT_NE(sample.find("\n[DEFAULT]\n\n# Minimum severity"), std::string::npos);
  EXPECT_NE(sample.find("# Type: int (1..256)\n#io_threads = 4\n"), std::string::npos);
  EXPECT_NE(sample.find("# Type: size (4K..64M)\n#block_size = 1M\n"), std::string::npos);
  EXPECT_NE(sample.find("#log_file =\n"), std::string::npos);
  std::istringstream in(sample);
  std::string line;
  while (std::getline(in, line)) EXPECT_LE(line.size(), 80u) << line;

  const std::vector<OptionSpec> specs = {
      {.section = "s", .name = "key", .default_value = "do-not-ship", .help = "Key.", .secret = true}};
  EXPECT_NE(render_sample(specs).find("#key =\n"), std::string::npos);
}

TEST(ConfigSample, DeployedSampleIsUpToDate) {
  const std::string path = std::string(GLINT_TEST_SOURCE_DIR) + "/deploy/glint.conf.sample";
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(text.str() == render_sample())
      << path << " differs from render_sample(); after changing the option catalog regenerate it with\n"
      << "  build/bin/glint-store --print-sample-config > deploy/glint.conf.sample";
}

TEST(ConfigFlags, StandardFlags) {
  CLI::App app;
  CommandLine cl;
  add_standard_flags(app, cl);
  std::vector<std::string> pos;
  app.add_option("pos", pos);
  const char* argv[] = {"prog",  "--config-file", "a.conf", "extra", "--config-file=b.conf",
                        "--set", "store.zone=x",  "--set",  "y=1",   "--print-sample-config"};
  app.parse(static_cast<int>(std::size(argv)), argv);
  EXPECT_EQ(cl.config_files, (std::vector<std::string>{"a.conf", "b.conf"}));
  EXPECT_EQ(cl.overrides, (std::vector<std::string>{"store.zone=x", "y=1"}));
  EXPECT_TRUE(cl.print_sample);
  EXPECT_EQ(pos, std::vector<std::string>{"extra"});
}

TEST(ConfigFlags, LoadOrExit) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  CommandLine bad;
  bad.overrides = {"nosuch.x=1", "store.io_threads=0"};
  EXPECT_EXIT(load_or_exit(bad), ::testing::ExitedWithCode(1),
              "<command line>:1: unknown section \\[nosuch\\].*\n<command line>:2: bad value '0'");
  CommandLine sample;
  sample.print_sample = true;
  EXPECT_EXIT(
      {
        // Keep the sample out of the test log; the child's stdout is not checked here.
        if (std::freopen("/dev/null", "w", stdout) == nullptr) std::exit(2);
        load_or_exit(sample);
      },
      ::testing::ExitedWithCode(0), "");
  CommandLine good;
  good.overrides = {"store.io_threads=7"};
  EXPECT_EQ(load_or_exit(good).get_int("store", "io_threads"), 7);
}

}  // namespace
}  // namespace glint::config
