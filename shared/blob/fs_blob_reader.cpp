// Verified reads of committed blobs.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "shared/blob/fs_store.hpp"

#include <optional>

namespace glint::blob {

namespace {
constexpr size_t kAlign = 4096;  // O_DIRECT alignment of buffers, offsets and lengths
size_t round_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }
}  // namespace

FsBlobReader::FsBlobReader(std::string path, fsutil::UniqueFd fd, Sidecar sidecar, fsutil::UniqueFd direct_fd,
                           bool mapped)
    : path_(std::move(path)), fd_(std::move(fd)), sidecar_(std::move(sidecar)), direct_fd_(std::move(direct_fd)),
      mapped_(mapped) {
  direct_ = direct_fd_.valid();
  struct stat st {};
  if (::fstat(fd_.get(), &st) == 0) file_id_ = static_cast<uint64_t>(st.st_ino);
}

Expected<std::span<std::byte>> FsBlobReader::read_at(std::vector<std::byte>& buf, size_t len, uint64_t offset) {
  // Direct reads skip the page cache fill, which costs more CPU than the read itself on these
  // nodes; block offsets are multiples of the (4 KiB-aligned) block size. The block lands at the
  // first aligned address inside buf, so no bounce copy is needed.
  if (direct_ && offset % kAlign == 0) {
    const size_t want = round_up(len);
    if (buf.size() < want + kAlign) buf.resize(want + kAlign);
    const auto addr = reinterpret_cast<uintptr_t>(buf.data());
    std::byte* dest = buf.data() + (kAlign - addr % kAlign) % kAlign;
    size_t done = 0;
    int err = 0;
    while (done < want) {  // a read that ends short is the end of the file (the tail block)
      const ssize_t n = ::pread(direct_fd_.get(), dest + done, want - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) err = errno;
      if (n <= 0 || static_cast<size_t>(n) % kAlign != 0) {
        if (n > 0) done += static_cast<size_t>(n);
        break;
      }
      done += static_cast<size_t>(n);
    }
    if (err == 0) return std::span<std::byte>(dest, std::min(done, len));  // short: file shorter than its sidecar
    direct_ = false;  // e.g. EINVAL from a filesystem without O_DIRECT: buffered from now on
  }
  if (!advised_) {  // once, at the first buffered read (not at every open: stat() opens too)
    // Readers go front to back: a larger kernel read-ahead keeps the disk busy.
    (void)::posix_fadvise(fd_.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    advised_ = true;
  }
  if (buf.size() < len) buf.resize(len);
  auto n = fsutil::pread_full(fd_.get(), {buf.data(), len}, offset, path_);
  if (!n) return n.error();
  return std::span<std::byte>(buf.data(), *n);
}

Expected<std::pair<uint64_t, size_t>> FsBlobReader::extent(uint64_t index) const {
  const BlobInfo& info = sidecar_.info;
  if (index >= info.block_count) {
    return Error{Errc::invalid, "block " + std::to_string(index) + " out of range (" +
                                    std::to_string(info.block_count) + " blocks)"};
  }
  const uint64_t offset = index * info.block_size;
  return std::pair{offset, static_cast<size_t>(std::min<uint64_t>(info.block_size, info.size - offset))};
}

Error FsBlobReader::mismatch(uint64_t index) const {
  return Error{Errc::corrupt, path_ + ": block " + std::to_string(index) + " checksum mismatch"};
}

Error FsBlobReader::short_read(uint64_t index) const {
  return Error{Errc::corrupt, path_ + ": short read at block " + std::to_string(index)};
}

Expected<std::span<const std::byte>> FsBlobReader::read_block(uint64_t index, std::vector<std::byte>& buf) {
  auto at = extent(index);
  if (!at) return at.error();
  const auto [offset, len] = *at;
  auto got = read_at(buf, len, offset);
  if (!got) return got.error();
  const std::span<std::byte> dest = *got;
  if (dest.size() != len) return short_read(index);
  if (hash::block_xxh3(dest) != sidecar_.block_hashes[index]) return mismatch(index);
  return std::span<const std::byte>(dest);
}

Expected<size_t> FsBlobReader::verify_block(uint64_t index, std::vector<std::byte>& buf) {
  if (mapped_ && !map_) {
    auto m = MappedFile::map(fd_.get(), sidecar_.info.size, path_);
    if (m) map_.emplace(std::move(*m));
    mapped_ = m.ok();  // e.g. a filesystem without mmap: read into buf instead
  }
  if (!mapped_) return BlobReader::verify_block(index, buf);
  auto at = extent(index);
  if (!at) return at.error();
  const auto [offset, len] = *at;
  auto h = map_->xxh3(offset, len);
  map_->release(offset, len);  // sendfile sends from the page cache, not from this mapping
  if (!h) {
    // A page faulted: the file was cut shorter than its sidecar (corrupt), or the disk failed.
    struct stat st {};
    if (::fstat(fd_.get(), &st) == 0 && static_cast<uint64_t>(st.st_size) < offset + len) return short_read(index);
    return h.error();
  }
  if (*h != sidecar_.block_hashes[index]) return mismatch(index);
  return len;
}

namespace {

uint64_t inode_of(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

uint64_t inode_at(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

// One attempt: data file, then its sidecar by name. nullopt when the file under the name changed
// between the two (a verified replacement swapped it): the caller opens again.
std::optional<Expected<std::unique_ptr<FsBlobReader>>> open_once(const std::string& data_path,
                                                                 const std::string& meta_path, ReadMode mode) {
  using Result = Expected<std::unique_ptr<FsBlobReader>>;
  fsutil::UniqueFd fd(::open(data_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return Result(fsutil::sys_error(errno == ENOENT ? Errc::not_found : Errc::io_error, "open", data_path, errno));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Result(fsutil::sys_error(Errc::io_error, "stat", data_path, errno));
  if (!S_ISREG(st.st_mode)) return Result(Error{Errc::corrupt, data_path + ": not a regular file"});

  auto sc = read_sidecar(meta_path);
  // The sidecar must be the one of the file we hold: a replacement renames both.
  if (inode_at(data_path) != static_cast<uint64_t>(st.st_ino)) return std::nullopt;
  if (!sc) {
    if (sc.code() == Errc::not_found) {
      // A remove() or quarantine() between our two opens is not corruption.
      if (!fsutil::exists(data_path)) return Result(Error{Errc::not_found, data_path + ": removed while opening"});
      return Result(Error{Errc::corrupt, meta_path + ": sidecar missing"});
    }
    return Result(sc.error());
  }
  if (static_cast<uint64_t>(st.st_size) != sc->info.size) {
    return Result(Error{Errc::corrupt, data_path + ": size " + std::to_string(st.st_size) + " but sidecar records " +
                                           std::to_string(sc->info.size)});
  }
  fsutil::UniqueFd direct_fd;
  if (mode == ReadMode::direct && sc->info.block_size % kAlign == 0) {
    direct_fd = fsutil::UniqueFd(::open(data_path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT));
    if (direct_fd.valid() && inode_of(direct_fd.get()) != static_cast<uint64_t>(st.st_ino)) return std::nullopt;
  }
  return Result(std::make_unique<FsBlobReader>(data_path, std::move(fd), std::move(sc.value()), std::move(direct_fd),
                                                    mode == ReadMode::mapped));
}

}  // namespace

Expected<std::unique_ptr<FsBlobReader>> open_blob(const std::string& data_path, const std::string& meta_path,
                                                  ReadMode mode) {
  for (int attempt = 0; attempt < 8; ++attempt)
    if (auto r = open_once(data_path, meta_path, mode)) return std::move(*r);
  return Error{Errc::io_error, data_path + ": replaced again and again while opening"};
}

}  // namespace glint::blob
