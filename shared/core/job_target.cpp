#include "shared/core/job_target.hpp"

#include "shared/core/uuid.hpp"

namespace glint {

namespace {

constexpr std::string_view kImage = "image:";
constexpr std::string_view kNode = "node:";

bool node_name_ok(std::string_view n) {
  if (n.empty() || n.size() > 255) return false;
  for (char c : n)
    if (c == ';' || c == ':' || static_cast<unsigned char>(c) <= ' ' || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  return true;
}

}  // namespace

Expected<JobTarget> JobTarget::parse(std::string_view text) {
  if (text.empty()) return cluster();
  if (text == "rebalance") return rebalance();
  if (text.substr(0, kImage.size()) == kImage) {
    const std::string id(text.substr(kImage.size()));
    if (!is_canonical_uuid(id)) return Error{Errc::invalid, "job target image:ID needs a canonical uuid"};
    return image(id);
  }
  if (text.substr(0, kNode.size()) == kNode) {
    std::string_view rest = text.substr(kNode.size());
    size_t semi = rest.find(';');
    JobTarget t = node(std::string(rest.substr(0, semi)));
    if (!node_name_ok(t.id)) return Error{Errc::invalid, "job target node:N needs a node name"};
    while (semi != std::string_view::npos) {
      rest = rest.substr(semi + 1);
      semi = rest.find(';');
      const std::string_view opt = rest.substr(0, semi);
      if (opt == "drain") {
        t.drain = true;
      } else if (opt == "deep") {
        t.deep = true;
      } else {
        return Error{Errc::invalid, "unknown job target option '" + std::string(opt.substr(0, 32)) + "'"};
      }
    }
    return t;
  }
  return Error{Errc::invalid, "job target must be empty, rebalance, image:ID or node:N[;drain][;deep]"};
}

std::string JobTarget::text() const {
  switch (kind) {
    case Kind::cluster: return "";
    case Kind::rebalance: return "rebalance";
    case Kind::image: return std::string(kImage) + id;
    case Kind::node: return std::string(kNode) + id + (drain ? ";drain" : "") + (deep ? ";deep" : "");
  }
  return "";
}

}  // namespace glint
