// Plain HTTP message types shared by servers, handlers and tests; no Asio/Beast here so that
// handlers compile fast and unit tests call handle_request() without sockets.
// Value types; thread-compatible.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "shared/core/result.hpp"

namespace glint::http {

// Header list with case-insensitive lookup; keeps insertion order for output.
class Headers {
 public:
  void set(std::string name, std::string value);  // replaces all of that name
  void add(std::string name, std::string value);
  std::optional<std::string_view> get(std::string_view name) const;
  const std::vector<std::pair<std::string, std::string>>& all() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

bool iequals(std::string_view a, std::string_view b);
// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s);

struct Request {
  std::string method;  // upper case, as sent
  std::string target;  // path + query, as sent
  std::string path;    // target before '?'
  std::string query;   // after '?', without it
  Headers headers;
  std::optional<uint64_t> content_length;
  bool chunked = false;
  std::string request_id;  // set by the server
  std::string remote;      // peer address
  bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

// Pull-style body of a streamed response. next() returns the next chunk (valid until the next
// call), an empty span at the end, or an error: then the connection is cut (or, before the first
// byte, a 500 is sent) so a client never receives bytes that failed verification.
class BodySource {
 public:
  virtual ~BodySource() = default;
  virtual Expected<std::span<const std::byte>> next() = 0;
};

// Optional capability of a BodySource whose bytes sit in a pipe: the server then splices them to
// the socket instead of calling next(), so they never pass through user space.
class PipeBody {
 public:
  virtual ~PipeBody() = default;
  virtual int pipe_fd() = 0;  // non-blocking read end; EOF before content_length means failure
};

// A piece of a FileBody: `length` bytes of the open file `fd` at `offset` (sent with sendfile),
// or, when fd < 0, the bytes in `bytes`. length 0 (fd >= 0) or empty bytes (fd < 0): the end.
struct FileRange {
  int fd = -1;
  uint64_t offset = 0;
  size_t length = 0;
  std::span<const std::byte> bytes = {};
  bool end() const { return fd >= 0 ? length == 0 : bytes.empty(); }
};

// Optional capability of a BodySource whose bytes are already verified ranges of a file it keeps
// open: a plain-TCP server then sends them with sendfile (no copy through user space) instead of
// calling next(). A range handed out is final (the file is immutable); an error cuts the stream.
class FileBody {
 public:
  virtual ~FileBody() = default;
  virtual Expected<FileRange> next_range() = 0;
  // true: next_range() only computes (verifies a block already in memory) and never waits, and a
  // file range it handed out stays valid across the next call; the server then asks for the next
  // range while the socket drains, so verifying overlaps with sending.
  virtual bool verify_ahead() const { return false; }
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;                     // used when stream is null
  std::unique_ptr<BodySource> stream;   // streamed body of exactly *content_length bytes
  std::optional<uint64_t> content_length;  // for streams and HEAD
  bool close = false;                   // close the connection after this response
};

// Push-style consumer of a request body (uploads). The server calls write() per received chunk,
// then finish() at the end; failed() when write() refused; abort() when the client went away or
// timed out (nothing may become visible then).
class BodySink {
 public:
  virtual ~BodySink() = default;
  virtual Status write(std::span<const std::byte> chunk) = 0;
  // Like write() for the first n bytes of buf, but the sink may take buf's storage (swapping in
  // another vector) to save a copy; the caller resizes buf before reusing it.
  virtual Status write_owned(std::vector<std::byte>& buf, size_t n) { return write({buf.data(), n}); }
  virtual Response finish() = 0;
  virtual Response failed(const Status& why) = 0;
  virtual void abort() = 0;
};

// What a handler returns: a complete response, or a sink that takes the request body first.
struct Reply {
  Response response;
  std::unique_ptr<BodySink> sink;
  static Reply of(Response r) { return Reply{std::move(r), nullptr}; }
  static Reply upload(std::unique_ptr<BodySink> s) { return Reply{Response{}, std::move(s)}; }
};

// Request handler seam; called concurrently from the server's threads.
class Handler {
 public:
  virtual ~Handler() = default;
  virtual Reply handle_request(const Request& req) = 0;
  // Called once per finished request (access log, metrics). bytes_* count bodies only.
  virtual void on_complete(const Request&, int /*status*/, uint64_t /*bytes_in*/, uint64_t /*bytes_out*/,
                           double /*seconds*/) {}
};

// A sink that collects a small body (JSON documents) up to max_bytes, then answers with
// on_body(body); a larger body is refused with 413.
std::unique_ptr<BodySink> buffered_sink(size_t max_bytes, std::function<Response(std::string)> on_body);

// Helpers for small responses.
Response text_response(int status, std::string body, std::string content_type = "text/plain; charset=UTF-8");
Response json_error(int status, std::string_view title, std::string_view message);
// 400 for a request that is not text where text is required: a target or a header value that is
// not valid UTF-8 (or holds control characters); nullopt when it is fine. Every server applies it
// before a handler sees the request.
std::optional<Response> refuse_malformed(const Request& req);
const char* reason_phrase(int status);

}  // namespace glint::http
