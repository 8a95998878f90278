#include "workers/api/policy/rule.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

namespace glint::api {

namespace {

constexpr int kMaxDepth = kMaxRuleDepth;  // nesting of parentheses and rule: references

struct Token {
  std::string text;
  size_t column;
};

// Whitespace separates tokens; leading '(' and trailing ')' of a token are tokens of their own,
// as in oslo.policy (so "%(owner)s" inside a check keeps its parentheses).
std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    if (std::isspace(static_cast<unsigned char>(s[i]))) { ++i; continue; }
    size_t start = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
    size_t end = i;
    while (start < end && s[start] == '(') out.push_back({"(", ++start});
    size_t closing = 0;
    while (end > start && s[end - 1] == ')') { --end; ++closing; }
    if (end > start) out.push_back({std::string(s.substr(start, end - start)), start + 1});
    for (size_t k = 0; k < closing; ++k) out.push_back({")", end + k + 1});
  }
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  Expected<RulePtr> parse() {
    if (tokens_.empty()) return leaf(RuleNode::Kind::always);
    auto r = parse_or(0);
    if (!r) return r;
    if (pos_ < tokens_.size()) return fail("unexpected '" + tokens_[pos_].text + "'");
    return r;
  }

 private:
  Error fail(const std::string& what) const {
    const size_t col = pos_ < tokens_.size() ? tokens_[pos_].column : (tokens_.empty() ? 1 : tokens_.back().column);
    return Error{Errc::invalid, "column " + std::to_string(col) + ": " + what};
  }
  static RulePtr leaf(RuleNode::Kind k, std::string left = {}, std::string right = {}) {
    auto n = std::make_shared<RuleNode>();
    n->kind = k;
    n->left = std::move(left);
    n->right = std::move(right);
    return n;
  }
  // Keywords in any case, as oslo.policy reads them.
  bool at(const char* word) const {
    if (pos_ >= tokens_.size()) return false;
    const std::string& t = tokens_[pos_].text;
    return t.size() == std::strlen(word) &&
           std::equal(t.begin(), t.end(), word, [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
  }

  Expected<RulePtr> parse_list(int depth, const char* word, RuleNode::Kind kind, Expected<RulePtr> (Parser::*next)(int)) {
    auto first = (this->*next)(depth);
    if (!first || !at(word)) return first;
    auto n = std::make_shared<RuleNode>();
    n->kind = kind;
    n->children.push_back(*first);
    while (at(word)) {
      ++pos_;
      auto more = (this->*next)(depth);
      if (!more) return more;
      n->children.push_back(*more);
    }
    return RulePtr(n);
  }
  Expected<RulePtr> parse_or(int depth) { return parse_list(depth, "or", RuleNode::Kind::any, &Parser::parse_and); }
  Expected<RulePtr> parse_and(int depth) { return parse_list(depth, "and", RuleNode::Kind::all, &Parser::parse_not); }

  Expected<RulePtr> parse_not(int depth) {
    if (!at("not")) return parse_atom(depth);
    ++pos_;
    auto inner = parse_not(depth + 1);
    if (!inner) return inner;
    auto n = std::make_shared<RuleNode>();
    n->kind = RuleNode::Kind::negate;
    n->children.push_back(*inner);
    return RulePtr(n);
  }

  Expected<RulePtr> parse_atom(int depth) {
    if (depth > kMaxDepth) return fail("nested too deeply");
    if (pos_ >= tokens_.size()) return fail("a check is missing at the end");
    if (at("(")) {
      ++pos_;
      auto inner = parse_or(depth + 1);
      if (!inner) return inner;
      if (!at(")")) return fail("')' expected");
      ++pos_;
      return inner;
    }
    const Token& t = tokens_[pos_];
    if (t.text == ")" || at("and") || at("or")) return fail("a check expected, not '" + t.text + "'");
    ++pos_;
    if (t.text == "@") return leaf(RuleNode::Kind::always);
    if (t.text == "!") return leaf(RuleNode::Kind::never);
    const size_t colon = t.text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == t.text.size()) {
      --pos_;
      return fail("'" + t.text + "' is not a check (KIND:VALUE, @ or !)");
    }
    const std::string kind = t.text.substr(0, colon), value = t.text.substr(colon + 1);
    if (kind == "role") return leaf(RuleNode::Kind::role, value);
    if (kind == "rule") return leaf(RuleNode::Kind::rule, value);
    const char q = kind.front();
    if ((q == '\'' || q == '"') && kind.size() >= 2 && kind.back() == q)
      return leaf(RuleNode::Kind::literal_compare, kind.substr(1, kind.size() - 2), value);
    if (q == '\'' || q == '"') {
      --pos_;
      return fail("unterminated quote in '" + t.text + "'");
    }
    return leaf(RuleNode::Kind::compare, kind, value);
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

// "%(key)s" substituted from the target; nullopt when a key is missing (the check is false).
std::optional<std::string> substitute(const std::string& text, const PolicyTarget& target) {
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t open = text.find("%(", i);
    if (open == std::string::npos) break;
    const size_t close = text.find(")s", open + 2);
    if (close == std::string::npos) break;
    out.append(text, i, open - i);
    auto it = target.find(text.substr(open + 2, close - open - 2));
    if (it == target.end()) return std::nullopt;
    out += it->second.value_or("None");
    i = close + 2;
  }
  out.append(text, i, std::string::npos);
  return out;
}

std::string credential(const PolicyCredentials& who, const std::string& attr) {
  const std::optional<std::string>* v = nullptr;
  if (attr == "project_id" || attr == "tenant" || attr == "tenant_id") v = &who.project_id;
  else if (attr == "user_id" || attr == "user") v = &who.user_id;
  else if (attr == "project_domain_id") v = &who.project_domain_id;
  else if (attr == "user_domain_id") v = &who.user_domain_id;
  if (!v) return "\x01unknown";  // an attribute glint does not carry never matches
  return v->value_or("None");
}

}  // namespace

Expected<RulePtr> parse_rule(std::string_view text) { return Parser(tokenize(text)).parse(); }

bool evaluate(const RuleNode& r, const PolicyCredentials& who, const PolicyTarget& target, const RuleResolver& resolve,
              int depth) {
  if (depth > kMaxDepth) return false;
  switch (r.kind) {
    case RuleNode::Kind::always: return true;
    case RuleNode::Kind::never: return false;
    case RuleNode::Kind::role: {
      auto name = substitute(r.left, target);
      if (!name) return false;
      std::transform(name->begin(), name->end(), name->begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      return who.roles.count(*name) > 0;
    }
    case RuleNode::Kind::rule: return resolve && resolve(r.left, who, target, depth + 1);
    case RuleNode::Kind::compare: {
      auto want = substitute(r.right, target);
      return want && credential(who, r.left) == *want;
    }
    case RuleNode::Kind::literal_compare: {
      auto have = substitute(r.right, target);
      return have && *have == r.left;
    }
    case RuleNode::Kind::all:
      return std::all_of(r.children.begin(), r.children.end(),
                         [&](const RulePtr& c) { return evaluate(*c, who, target, resolve, depth + 1); });
    case RuleNode::Kind::any:
      return std::any_of(r.children.begin(), r.children.end(),
                         [&](const RulePtr& c) { return evaluate(*c, who, target, resolve, depth + 1); });
    case RuleNode::Kind::negate: return !evaluate(*r.children.front(), who, target, resolve, depth + 1);
  }
  return false;
}

int rule_depth(const RuleNode& r, const std::function<int(const std::string&)>& ref_depth) {
  int deepest = 0;
  if (r.kind == RuleNode::Kind::rule) deepest = ref_depth(r.left) + 1;
  for (const auto& c : r.children) deepest = std::max(deepest, rule_depth(*c, ref_depth) + 1);
  return deepest;
}

void referenced_rules(const RuleNode& r, std::set<std::string>& out) {
  if (r.kind == RuleNode::Kind::rule) out.insert(r.left);
  for (const auto& c : r.children) referenced_rules(*c, out);
}

}  // namespace glint::api
