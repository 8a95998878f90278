// Expected-like result values for outcomes that are not exceptional (not found, conflict, no space…).
// Plain value types; thread-compatible.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace glint {

enum class Errc {
  ok = 0,
  invalid,       // bad input from the caller
  not_found,
  conflict,      // exists already / wrong state
  unauthorized,
  too_large,
  no_space,      // free-space reserve would be crossed
  corrupt,       // data disagrees with its checksums
  unavailable,   // a dependency (database, peer) cannot be reached now
  io_error,
  cancelled,
};

const char* errc_name(Errc e);

struct Error {
  Errc code = Errc::io_error;
  std::string message;
};

// Status: success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error e) : err_(std::move(e)) {}  // NOLINT(implicit)
  Status(Errc c, std::string msg) : err_{c, std::move(msg)} {}
  bool ok() const { return err_.code == Errc::ok; }
  explicit operator bool() const { return ok(); }
  Errc code() const { return err_.code; }
  const std::string& message() const { return err_.message; }
  const Error& error() const { return err_; }

 private:
  Error err_{Errc::ok, {}};
};

// Expected<T>: a T or an Error.
template <class T>
class [[nodiscard]] Expected {
 public:
  Expected(T v) : v_(std::move(v)) {}  // NOLINT(implicit)
  Expected(Error e) : v_(std::move(e)) {}  // NOLINT(implicit)
  Expected(Errc c, std::string msg) : v_(Error{c, std::move(msg)}) {}
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const { return std::get<1>(v_); }
  Errc code() const { return ok() ? Errc::ok : error().code; }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace glint
