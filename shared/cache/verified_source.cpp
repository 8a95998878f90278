#include "shared/cache/verified_source.hpp"

namespace glint::cache {

VerifiedSource::VerifiedSource(std::unique_ptr<blob::BlobReader> reader, uint64_t first, uint64_t last,
                               Upstream fallback, VerifiedHooks hooks, bool read_ahead)
    : reader_(std::move(reader)), pos_(first), sent_(first), end_(last + 1), fallback_(std::move(fallback)),
      hooks_(std::move(hooks)) {
  if (read_ahead) ahead_ = std::make_unique<blob::ReadAhead>([this](std::vector<std::byte>& buf) { return fill(buf); });
}

Expected<std::span<const std::byte>> VerifiedSource::next() {
  if (rest_) return rest_->next();
  return verified();
}

Expected<http::FileRange> VerifiedSource::next_range() {
  if (rest_) {
    auto c = rest_->next();
    if (!c) return c.error();
    return http::FileRange{-1, 0, c->size(), *c};
  }
  const uint64_t at = sent_;
  auto piece = verified();
  if (!piece) return piece.error();
  if (rest_ || piece->empty() || reader_->data_fd() < 0) return http::FileRange{-1, 0, piece->size(), *piece};
  return http::FileRange{reader_->data_fd(), at, piece->size(), {}};
}

Expected<std::span<const std::byte>> VerifiedSource::fill(std::vector<std::byte>& buf) {
  if (pos_ >= end_) return std::span<const std::byte>();
  const uint64_t bs = reader_->info().block_size;
  const uint64_t index = pos_ / bs;
  auto block = reader_->read_block(index, buf);
  if (!block) return block.error();
  const uint64_t offset = pos_ - index * bs;
  const uint64_t n = std::min<uint64_t>(block->size() - offset, end_ - pos_);
  pos_ += n;
  return block->subspan(offset, n);
}

Expected<std::span<const std::byte>> VerifiedSource::verified() {
  auto piece = ahead_ ? ahead_->next() : fill(buf_);
  if (!piece) {
    if (piece.code() != Errc::corrupt) return piece.error();
    if (hooks_.on_corrupt) hooks_.on_corrupt(reader_->file_id(), piece.error().message);
    if (!fallback_) return piece.error();
    auto up = fallback_(sent_, end_ - 1);  // from the first byte not handed out
    if (!up) return up.error();
    rest_ = std::move(*up);
    return rest_->next();
  }
  sent_ += piece->size();
  if (hooks_.on_bytes && !piece->empty()) hooks_.on_bytes(piece->size());
  return piece;
}

}  // namespace glint::cache
