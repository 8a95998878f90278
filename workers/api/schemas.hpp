// The JSON schema documents served at /v2/schemas/{name}, keyed by name ("image",
// "metadefs/namespace", …). Immutable; thread-safe.
#pragma once
#include <map>
#include <string>

namespace glint::api {

const std::map<std::string, std::string>& schema_documents();

}  // namespace glint::api
