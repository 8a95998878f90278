// Writes the port a server bound to a file, atomically (temp + rename), so scripts and tests that
// start a process on port 0 never read a half-written number.
#pragma once
#include <cstdint>
#include <string>

namespace glint::util {

bool write_port_file(const std::string& path, uint16_t port);

}  // namespace glint::util
