// Virtual size of uploaded image data from its first bytes, as Glance's format inspector reports
// it: raw → the data size, qcow2 → the size in its header; otherwise unknown. Pure; thread-safe.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace glint::api {

inline constexpr size_t kFormatHeadBytes = 512;  // how much of the data inspection looks at

std::optional<int64_t> inspect_virtual_size(const std::string& disk_format, std::span<const std::byte> head,
                                            uint64_t size);

}  // namespace glint::api
