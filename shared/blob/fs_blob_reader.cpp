// Verified reads of committed blobs.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>

#include "shared/blob/fs_store.hpp"

namespace glint::blob {

FsBlobReader::FsBlobReader(std::string path, fsutil::UniqueFd fd, Sidecar sidecar)
    : path_(std::move(path)), fd_(std::move(fd)), sidecar_(std::move(sidecar)) {}

Expected<std::span<const std::byte>> FsBlobReader::read_block(uint64_t index, std::vector<std::byte>& buf) {
  const BlobInfo& info = sidecar_.info;
  if (index >= info.block_count) {
    return Error{Errc::invalid, "block " + std::to_string(index) + " out of range (" +
                                    std::to_string(info.block_count) + " blocks)"};
  }
  const uint64_t offset = index * info.block_size;
  const size_t len = static_cast<size_t>(std::min<uint64_t>(info.block_size, info.size - offset));
  if (buf.size() < len) buf.resize(info.block_size);
  const std::span<std::byte> dest(buf.data(), len);
  auto n = fsutil::pread_full(fd_.get(), dest, offset, path_);
  if (!n) return n.error();
  if (*n != len) return Error{Errc::corrupt, path_ + ": short read at block " + std::to_string(index)};
  if (hash::block_xxh3(dest) != sidecar_.block_hashes[index]) {
    return Error{Errc::corrupt, path_ + ": block " + std::to_string(index) + " checksum mismatch"};
  }
  return std::span<const std::byte>(dest);
}

Expected<std::unique_ptr<FsBlobReader>> open_blob(const std::string& data_path, const std::string& meta_path) {
  fsutil::UniqueFd fd(::open(data_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    return fsutil::sys_error(errno == ENOENT ? Errc::not_found : Errc::io_error, "open", data_path, errno);
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fsutil::sys_error(Errc::io_error, "stat", data_path, errno);
  if (!S_ISREG(st.st_mode)) return Error{Errc::corrupt, data_path + ": not a regular file"};

  auto sc = read_sidecar(meta_path);
  if (!sc) {
    if (sc.code() == Errc::not_found) {
      // A remove() or quarantine() between our two opens is not corruption.
      if (!fsutil::exists(data_path)) return Error{Errc::not_found, data_path + ": removed while opening"};
      return Error{Errc::corrupt, meta_path + ": sidecar missing"};
    }
    return sc.error();
  }
  if (static_cast<uint64_t>(st.st_size) != sc->info.size) {
    return Error{Errc::corrupt, data_path + ": size " + std::to_string(st.st_size) + " but sidecar records " +
                                    std::to_string(sc->info.size)};
  }
  return std::make_unique<FsBlobReader>(data_path, std::move(fd), std::move(sc.value()));
}

}  // namespace glint::blob
