// Image ids: only canonical lower-case 8-4-4-4-12 UUIDs are accepted anywhere (no path tricks).
#pragma once
#include <string>
#include <string_view>

namespace glint {

bool is_canonical_uuid(std::string_view s);
// A random (version 4) UUID in canonical form, from OpenSSL's CSPRNG.
std::string random_uuid();

}  // namespace glint
