// Timestamps as text for people and APIs. Pure; thread-safe.
#pragma once
#include <chrono>
#include <string>

namespace glint {

// "2026-11-26T22:50:25Z" (UTC, whole seconds), as Glance and glintctl print times.
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// Reads "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]" (Glance's time filters, Keystone's
// expires_at) to microseconds; false for anything else.
bool parse_iso8601(const std::string& text, std::chrono::system_clock::time_point& out);

}  // namespace glint
