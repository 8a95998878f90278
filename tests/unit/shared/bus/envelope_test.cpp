// Bus envelopes: what is encoded decodes to the same thing; anything malformed is refused with a
// reason, never a crash.
#include "shared/bus/envelope.hpp"

#include <gtest/gtest.h>

namespace glint::bus {
namespace {

TEST(Envelope, RoundTrip) {
  Envelope e;
  e.type = type::kEvent;
  e.topic = "image.uploaded";
  e.from = Sender{"node1", "api", 42, "0.1.0"};
  e.ts_ms = 1764190000000;
  e.body = {{"image", "3f2504e0-4f89-41d3-9a0c-0305e82c3301"}, {"size", 5}};
  auto d = decode(encode(e));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->type, "event");
  EXPECT_EQ(d->topic, "image.uploaded");
  EXPECT_EQ(d->from.node, "node1");
  EXPECT_EQ(d->from.role, "api");
  EXPECT_EQ(d->from.pid, 42);
  EXPECT_EQ(d->ts_ms, 1764190000000);
  EXPECT_EQ(d->body["size"], 5);
}

TEST(Envelope, MalformedOrUnknownIsRefused) {
  const char* bad[] = {
      "",
      "not json",
      "[1,2]",
      R"({"type":"heartbeat","from":{"node":"n","role":"r"}})",                         // no version
      R"({"v":2,"type":"heartbeat","from":{"node":"n","role":"r"}})",                   // future version
      R"({"v":1,"type":"bogus","from":{"node":"n","role":"r"}})",                       // unknown type
      R"({"v":1,"type":"event","from":{"node":"n","role":"r"}})",                       // event without topic
      R"({"v":1,"type":"heartbeat"})",                                                  // no sender
      R"({"v":1,"type":"heartbeat","from":{"node":1,"role":"r"}})",                     // wrong type
      R"({"v":1,"type":"heartbeat","from":{"node":"n","role":"r","pid":"x"}})",         // pid not a number
      R"({"v":1,"type":"heartbeat","from":{"node":"n","role":"r"},"body":[1]})",        // body not an object
  };
  for (const char* b : bad) {
    auto d = decode(b);
    EXPECT_FALSE(d.ok()) << b;
    if (!d.ok()) {
      EXPECT_EQ(d.code(), Errc::invalid) << b;
    }
  }
  EXPECT_FALSE(decode(std::string(kMaxMessageBytes + 1, ' ')).ok());
}

}  // namespace
}  // namespace glint::bus
