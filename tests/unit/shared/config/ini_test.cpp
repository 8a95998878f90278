// Tests for the shared INI line scanner and whole-file reader.
#include "shared/config/ini.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace glint::config {
namespace {

using Kind = IniLine::Kind;

struct Seen {
  Kind kind;
  int line;
  std::string name;
  std::string value;
  bool colon_hint;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> scan(std::string_view text) {
  std::vector<Seen> out;
  scan_ini(text, [&](const IniLine& l) {
    out.push_back({l.kind, l.line, std::string(l.name), std::string(l.value), l.colon_hint});
  });
  return out;
}

TEST(ScanIni, SectionsEntriesAndCommentsWithLineNumbers) {
  const auto seen = scan(
      "\xEF\xBB\xBF# comment\n"
      "\n"
      "  [ store ]  \r\n"
      "; another\n"
      "io_threads =  8 \n"
      "empty=\n"
      "url = a=b");
  const std::vector<Seen> want = {
      {Kind::section, 3, "store", "", false},
      {Kind::entry, 5, "io_threads", "8", false},
      {Kind::entry, 6, "empty", "", false},
      {Kind::entry, 7, "url", "a=b", false},
  };
  EXPECT_EQ(seen, want);
}

TEST(ScanIni, MalformedHeadersAndLines) {
  const auto seen = scan("[]\n[a\n[a]b]\n[ ]\nkey: value\njust words\n= value\n");
  const std::vector<Seen> want = {
      {Kind::malformed_header, 1, "", "", false}, {Kind::malformed_header, 2, "", "", false},
      {Kind::malformed_header, 3, "", "", false}, {Kind::malformed_header, 4, "", "", false},
      {Kind::malformed_line, 5, "", "", true},    {Kind::malformed_line, 6, "", "", false},
      {Kind::malformed_line, 7, "", "", false},
  };
  EXPECT_EQ(seen, want);
}

TEST(ScanIni, EdgeInputsDoNotCrash) {
  EXPECT_TRUE(scan("").empty());
  EXPECT_TRUE(scan("\xEF\xBB\xBF").empty());
  EXPECT_TRUE(scan("\n\n\r\n").empty());
  EXPECT_EQ(scan("[").size(), 1u);
  EXPECT_EQ(scan("]").size(), 1u);
  EXPECT_EQ(scan("=").size(), 1u);
  EXPECT_EQ(scan(std::string_view("\0[x]\0", 5)).size(), 1u);
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 131 + 7) % 256);
  scan(junk);
}

TEST(ReadTextFile, MissingFileGivesReason) {
  std::string text;
  std::string why;
  EXPECT_FALSE(read_text_file("/nonexistent/glint-ini-test", text, why));
  EXPECT_EQ(why, "No such file or directory");
}

}  // namespace
}  // namespace glint::config
