#include "shared/blob/verified_source.hpp"

namespace glint::blob {

VerifiedSource::VerifiedSource(std::unique_ptr<BlobReader> reader, uint64_t first, uint64_t last,
                               RangeFallback fallback, VerifiedHooks hooks, bool read_ahead, BufferPool* buffers)
    : reader_(std::move(reader)), pos_(first), sent_(first), end_(last + 1), fallback_(std::move(fallback)),
      hooks_(std::move(hooks)) {
  if (read_ahead) {
    auto fill_bytes = [this](std::vector<std::byte>& buf) -> Expected<std::span<const std::byte>> {
      auto piece = fill(buf, false);
      if (!piece) return piece.error();
      return piece->bytes;
    };
    ahead_ = std::make_unique<ReadAhead>(std::move(fill_bytes), buffers);
  }
}

Expected<std::span<const std::byte>> VerifiedSource::next() {
  if (rest_) return rest_->next();
  auto piece = verified(false);
  if (!piece) return piece.error();
  return piece->bytes;
}

Expected<http::FileRange> VerifiedSource::next_range() {
  if (rest_) {
    auto c = rest_->next();
    if (!c) return c.error();
    return http::FileRange{-1, 0, c->size(), *c};
  }
  const int fd = reader_->data_fd();
  const uint64_t at = sent_;
  auto piece = verified(fd >= 0);
  if (!piece) return piece.error();
  if (rest_ || piece->length == 0 || fd < 0) return http::FileRange{-1, 0, piece->bytes.size(), piece->bytes};
  return http::FileRange{fd, at, piece->length, {}};
}

Expected<VerifiedSource::Piece> VerifiedSource::fill(std::vector<std::byte>& buf, bool in_place) {
  if (pos_ >= end_) return Piece{};
  const uint64_t bs = reader_->info().block_size;
  const uint64_t index = pos_ / bs;
  const uint64_t offset = pos_ - index * bs;
  std::span<const std::byte> block;
  uint64_t length = 0;
  if (in_place) {
    auto n = reader_->verify_block(index, buf);
    if (!n) return n.error();
    length = *n;
  } else {
    auto b = reader_->read_block(index, buf);
    if (!b) return b.error();
    block = *b;
    length = block.size();
  }
  const uint64_t n = std::min<uint64_t>(length - offset, end_ - pos_);
  pos_ += n;
  return Piece{n, in_place ? std::span<const std::byte>() : block.subspan(offset, n)};
}

Expected<VerifiedSource::Piece> VerifiedSource::take(bool in_place) {
  if (!ahead_) return fill(buf_, in_place);
  auto chunk = ahead_->next();
  if (!chunk) return chunk.error();
  return Piece{chunk->size(), *chunk};
}

Expected<VerifiedSource::Piece> VerifiedSource::verified(bool in_place) {
  auto piece = take(in_place);
  if (!piece) {
    // Bytes that disagree with their hash are reported; a block the disk cannot deliver (EIO, a
    // page that faults) is not evidence against the copy, but the fallback serves it all the same.
    if (piece.code() != Errc::corrupt && piece.code() != Errc::io_error) return piece.error();
    if (piece.code() == Errc::corrupt && hooks_.on_corrupt) hooks_.on_corrupt(reader_->file_id(), piece.error().message);
    if (!fallback_) return piece.error();
    auto up = fallback_(sent_, end_ - 1);  // from the first byte not handed out
    if (!up) return up.error();
    rest_ = std::move(*up);
    auto c = rest_->next();
    if (!c) return c.error();
    return Piece{c->size(), *c};
  }
  sent_ += piece->length;
  if (hooks_.on_bytes && piece->length > 0) hooks_.on_bytes(piece->length);
  return piece;
}

}  // namespace glint::blob
