// A BodySource over a string, handed out in fixed-size chunks (uploads in tests). Not thread-safe.
#pragma once
#include <algorithm>
#include <string>

#include "shared/http/message.hpp"

namespace glint::testing {

class StringSource final : public http::BodySource {
 public:
  StringSource(const std::string& data, size_t chunk) : data_(data), chunk_(chunk) {}
  Expected<std::span<const std::byte>> next() override {
    const size_t n = std::min(chunk_, data_.size() - pos_);
    std::span<const std::byte> out(reinterpret_cast<const std::byte*>(data_.data() + pos_), n);
    pos_ += n;
    return out;
  }

 private:
  const std::string& data_;
  size_t chunk_;
  size_t pos_ = 0;
};

}  // namespace glint::testing
