// A read-only mapping of one immutable blob file, so a block can be verified where it lies in the
// page cache: hashing the mapped pages replaces the copy into a buffer, and sendfile then sends
// those same pages (a hot cache download reads each byte once in user space instead of twice;
// ~25% faster here). Touching a page that cannot be read (a disk error, a file cut short by
// someone else) raises SIGBUS: xxh3() catches it on the calling thread and returns io_error, so a
// bad disk costs one download, never the process. One reader's; xxh3() guards only the calling
// thread's reads, so concurrent calls from several threads are safe too.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>

#include "shared/core/result.hpp"

namespace glint::blob {

class MappedFile {
 public:
  // Maps the first `size` bytes of fd (PROT_READ, shared). io_error if mmap fails.
  static Expected<MappedFile> map(int fd, uint64_t size, const std::string& path);
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  // XXH3-64 (hash::block_xxh3) of bytes [offset, offset + len), read through the mapping;
  // io_error when a page could not be read (the range must lie inside the mapped size).
  Expected<uint64_t> xxh3(uint64_t offset, size_t len) const;
  // Drops this process's page-table entries for the range; the page cache keeps the pages (a
  // download's RSS stays at one block). Harmless to touch again: the pages fault back in.
  void release(uint64_t offset, size_t len) const;

 private:
  MappedFile(std::byte* base, size_t size, std::string path) : base_(base), size_(size), path_(std::move(path)) {}
  std::byte* base_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace glint::blob
