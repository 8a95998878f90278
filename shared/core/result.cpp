#include "shared/core/result.hpp"

namespace glint {

const char* errc_name(Errc e) {
  switch (e) {
    case Errc::ok: return "ok";
    case Errc::invalid: return "invalid";
    case Errc::not_found: return "not_found";
    case Errc::conflict: return "conflict";
    case Errc::unauthorized: return "unauthorized";
    case Errc::too_large: return "too_large";
    case Errc::no_space: return "no_space";
    case Errc::corrupt: return "corrupt";
    case Errc::unavailable: return "unavailable";
    case Errc::io_error: return "io_error";
    case Errc::cancelled: return "cancelled";
  }
  return "unknown";
}

}  // namespace glint
