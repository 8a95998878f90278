// The format inspector against images qemu-img (and genisoimage) make at test time: every format
// detected with the virtual size qemu reports, however the stream is cut into chunks; every unsafe
// kind (backing file, external data file, extents in other files, parent disks, bad headers)
// refused whatever disk_format is declared; the declared-format rule as Glance 2024+ applies it.
#include "shared/format/format.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "tests/support/process.hpp"

namespace glint::format {
namespace {

using Bytes = std::vector<std::byte>;

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  EXPECT_EQ(::pclose(p), 0) << cmd;
  return out;
}

Bytes read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), {});
  const auto* b = reinterpret_cast<const std::byte*>(s.data());
  return Bytes(b, b + s.size());
}

Verdict inspect_in_chunks(const Bytes& b, size_t chunk) {
  Inspector i;
  for (size_t pos = 0; pos < b.size(); pos += chunk) i.feed(std::span(b).subspan(pos, std::min(chunk, b.size() - pos)));
  return i.finish();
}

void patch(Bytes& b, size_t at, std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) b[at + i] = static_cast<std::byte>(text[i]);
}

size_t find(const Bytes& b, std::string_view text) {
  std::string_view all(reinterpret_cast<const char*>(b.data()), b.size());
  return all.find(text);
}

class FormatTest : public ::testing::Test {
 protected:
  // qemu-img create -f <args> into dir/name; returns the path.
  std::string make(const std::string& name, const std::string& args, const std::string& size = "64M") {
    const std::string path = dir_ / name;
    run("qemu-img create -q -f " + args + " '" + path + "' " + size);
    return path;
  }
  int64_t qemu_virtual_size(const std::string& path, const std::string& fmt) {
    return nlohmann::json::parse(run("qemu-img info --output=json -f " + fmt + " '" + path + "'"))["virtual-size"];
  }
  glint::testing::TempDir dir_{"glint-format"};
};

struct Made {
  std::string file, qemu_args, qemu_format, name;
};

TEST_F(FormatTest, EveryFormatIsDetectedWithQemusVirtualSizeHoweverTheStreamIsCut) {
  const std::vector<Made> made = {
      {"a.qcow2", "qcow2", "qcow2", "qcow2"},
      {"v2.qcow2", "qcow2 -o compat=0.10", "qcow2", "qcow2"},
      {"s.vmdk", "vmdk -o subformat=monolithicSparse", "vmdk", "vmdk"},
      {"so.vmdk", "vmdk -o subformat=streamOptimized", "vmdk", "vmdk"},
      {"d.vhd", "vpc -o subformat=dynamic", "vpc", "vhd"},
      {"x.vhdx", "vhdx", "vhdx", "vhdx"},
      {"a.vdi", "vdi", "vdi", "vdi"},
  };
  for (const auto& m : made) {
    SCOPED_TRACE(m.file);
    const auto path = make(m.file, m.qemu_args);
    const auto bytes = read_file(path);
    for (size_t chunk : {size_t{511}, size_t{4096}, size_t{65537}, size_t{1} << 20}) {
      const auto v = inspect_in_chunks(bytes, chunk);
      EXPECT_EQ(v.refusal, "") << chunk;
      EXPECT_EQ(format_name(v.detected), m.name) << chunk;
      EXPECT_EQ(v.virtual_size, qemu_virtual_size(path, m.qemu_format)) << chunk;
    }
    const auto v = inspect_all(bytes);
    EXPECT_TRUE(check_declared(m.name, v).ok());
    EXPECT_TRUE(check_declared("ami", v).ok());  // passthrough formats are not compared
    const Status as_raw = check_declared("raw", v);
    EXPECT_EQ(as_raw.code(), Errc::invalid);
    EXPECT_NE(as_raw.message().find("does not match disk_format raw: it was detected as " + m.name), std::string::npos);
    EXPECT_EQ(recorded_virtual_size(m.name, v), qemu_virtual_size(path, m.qemu_format));
    EXPECT_EQ(recorded_virtual_size("aki", v), std::nullopt);
  }
}

TEST_F(FormatTest, FixedVhdIsKnownFromItsLastSector) {
  const auto bytes = read_file(make("f.vhd", "vpc -o subformat=fixed", "8M"));
  Inspector i;
  i.feed(std::span(bytes).first(1 << 20));
  ASSERT_TRUE(i.early().has_value());
  EXPECT_EQ(i.early()->detected, Format::raw);  // no header: looks raw until the footer
  i.feed(std::span(bytes).subspan(1 << 20));
  const auto v = i.finish();
  EXPECT_EQ(v.detected, Format::vhd);
  EXPECT_EQ(v.virtual_size, qemu_virtual_size(dir_ / "f.vhd", "vpc"));
  EXPECT_FALSE(check_declared("raw", v).ok());
  EXPECT_TRUE(check_declared("vhd", v).ok());
}

TEST_F(FormatTest, IsoAndRaw) {
  run("mkdir -p '" + (dir_ / "tree") + "' && head -c 300000 /dev/urandom > '" + (dir_ / "tree/f") + "'");
  run("genisoimage -quiet -o '" + (dir_ / "a.iso") + "' '" + (dir_ / "tree") + "'");
  const auto iso = read_file(dir_ / "a.iso");
  const auto v = inspect_in_chunks(iso, 3000);
  EXPECT_EQ(v.detected, Format::iso);
  EXPECT_EQ(v.virtual_size, static_cast<int64_t>(iso.size()));  // genisoimage: volume = file
  EXPECT_TRUE(check_declared("iso", v).ok());
  EXPECT_FALSE(check_declared("raw", v).ok());

  const auto raw = read_file(make("r.raw", "raw", "1M"));
  const auto r = inspect_in_chunks(raw, 4096);
  EXPECT_EQ(r.detected, Format::raw);
  EXPECT_EQ(r.virtual_size, 1 << 20);
  EXPECT_TRUE(check_declared("raw", r).ok());
  const Status as_qcow2 = check_declared("qcow2", r);
  EXPECT_EQ(as_qcow2.message(), "Image data does not match disk_format qcow2: it was detected as raw.");
  EXPECT_EQ(inspect_all({}).virtual_size, std::nullopt);  // an empty upload
  const Bytes tiny(100, std::byte{7});
  EXPECT_EQ(inspect_all(tiny).detected, Format::raw);
  EXPECT_EQ(inspect_all(tiny).virtual_size, 100);
}

// Each unsafe kind: refused whatever was declared, with a message that says what was found.
void expect_refused(const Bytes& b, const std::string& why) {
  SCOPED_TRACE(why);
  const auto v = inspect_in_chunks(b, 4096);
  EXPECT_NE(v.refusal.find(why), std::string::npos) << v.refusal;
  for (const char* declared : {"raw", "qcow2", "vmdk", "vhd", "vhdx", "ami", "bare-anything"}) {
    const Status s = check_declared(declared, v);
    EXPECT_EQ(s.code(), Errc::invalid) << declared;
    EXPECT_NE(s.message().find("failed the format safety check: " + why), std::string::npos) << s.message();
    EXPECT_EQ(recorded_virtual_size(declared, v), std::nullopt);
  }
}

TEST_F(FormatTest, UnsafeImagesAreRefusedWhateverTheirDeclaredFormat) {
  const auto base = make("base.qcow2", "qcow2");
  run("qemu-img create -q -f qcow2 -b '" + base + "' -F qcow2 '" + (dir_ / "child.qcow2") + "'");
  expect_refused(read_file(dir_ / "child.qcow2"), "qcow2 image has a backing file");
  expect_refused(read_file(make("df.qcow2", "qcow2 -o data_file=" + (dir_ / "data.raw"))),
                 "qcow2 image has an external data file");
  make("flat.vmdk", "vmdk -o subformat=monolithicFlat");
  expect_refused(read_file(dir_ / "flat.vmdk"), "vmdk descriptor file: its extents are other files");
  make("split.vmdk", "vmdk -o subformat=twoGbMaxExtentSparse");
  expect_refused(read_file(dir_ / "split.vmdk"), "vmdk descriptor file");

  // A sparse vmdk whose embedded descriptor is edited to read another file.
  const auto sparse = read_file(make("s.vmdk", "vmdk -o subformat=monolithicSparse"));
  const size_t extent = find(sparse, "RW 131072 SPARSE \"s.vmdk\"");
  ASSERT_NE(extent, std::string::npos);
  auto flat = sparse;
  patch(flat, extent, "RW 131072 FLAT \"/etc/hosts\" 0");
  expect_refused(flat, "vmdk extent is not a sparse extent of this file");
  auto pathy = sparse;
  patch(pathy, extent, "RW 131072 SPARSE \"../x/s.vmdk\"");
  expect_refused(pathy, "vmdk extent names another file");
  auto two = sparse;
  patch(two, extent + 25, "\nRW 1 SPARSE \"t.vmdk\"\n");
  expect_refused(two, "vmdk descriptor must name exactly one extent (it names 2)");
  auto type = sparse;
  patch(type, find(sparse, "monolithicSparse"), "monolithicFlat\"  ");
  expect_refused(type, "vmdk createType \"monolithicFlat\" is not allowed");

  // A dynamic vhd turned into a differencing one (type 4 at byte 60 of the footer copy).
  auto vhd = read_file(make("d.vhd", "vpc -o subformat=dynamic"));
  vhd[63] = std::byte{4};
  expect_refused(vhd, "vhd image is a differencing disk");

  auto q = read_file(base);
  auto bad_cluster = q;
  bad_cluster[23] = std::byte{40};
  expect_refused(bad_cluster, "qcow2 header has an invalid cluster size");
  expect_refused(Bytes(q.begin(), q.begin() + 60), "qcow2 header is cut short");
  auto v9 = q;
  v9[7] = std::byte{9};
  expect_refused(v9, "qcow2 version 9 is not supported");
}

TEST_F(FormatTest, UnsafeHeadersAreKnownEarlyAndVhdxMetadataIsCapturedInPassing) {
  const auto base = make("base.qcow2", "qcow2");
  run("qemu-img create -q -f qcow2 -b '" + base + "' -F qcow2 '" + (dir_ / "child.qcow2") + "'");
  const auto child = read_file(dir_ / "child.qcow2");
  Inspector i;
  i.feed(std::span(child).first(4096));
  ASSERT_TRUE(i.early().has_value());  // the upload can stop here
  EXPECT_NE(i.early()->refusal, "");

  // vhdx's metadata region is 3 MiB into the file: captured as the stream passes, not buffered.
  auto vhdx = read_file(make("x.vhdx", "vhdx"));
  Inspector j;
  j.feed(std::span(vhdx).first(3 << 20));
  EXPECT_FALSE(j.early().has_value());
  j.feed(std::span(vhdx).subspan(3 << 20));
  ASSERT_TRUE(j.early().has_value());
  EXPECT_EQ(j.early()->virtual_size, 64 << 20);

  // A region table pointing at metadata the stream has already passed cannot be honoured.
  const size_t entry = find(vhdx, std::string("\x06\xa2\x7c\x8b", 4));
  ASSERT_NE(entry, std::string::npos);
  vhdx[entry + 16 + 1] = std::byte{0x20};  // 3 MiB → 200 KiB: inside the region table just read
  vhdx[entry + 16 + 2] = std::byte{0x03};
  const auto v = inspect_in_chunks(vhdx, 65536);
  EXPECT_NE(v.refusal.find("points back at data that has already passed"), std::string::npos) << v.refusal;
}

}  // namespace
}  // namespace glint::format
