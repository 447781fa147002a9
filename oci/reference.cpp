// Reference parsing per the distribution spec's grammar.
#include "oci/reference.h"

#include "cas/digest.h"

namespace kiln::oci {

namespace {

Error bad(const std::string& text, const std::string& why) {
  return make_error(ErrorCode::invalid_argument, "invalid reference \"" + text + "\": " + why);
}

// The grammar's regular expressions, as plain loops: std::regex costs ~4 M instructions to compile, paid on
// every kiln start (bench/run).
bool lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool alnum(char c) { return lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

/// [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*
bool valid_component(const std::string& s) {
  size_t i = 0, n = s.size();
  while (true) {
    size_t run = i;
    while (i < n && lower_alnum(s[i])) ++i;
    if (i == run) return false;  // a separator (or the start) must be followed by [a-z0-9]+
    if (i == n) return true;
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      i += (i + 1 < n && s[i + 1] == '_') ? 2 : 1;
    } else if (s[i] == '-') {
      while (i < n && s[i] == '-') ++i;
    } else {
      return false;
    }
  }
}

/// label(\.label)*(:[0-9]+)? with label = [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
bool valid_domain(const std::string& s) {
  std::string host = s;
  if (auto colon = s.find(':'); colon != std::string::npos) {
    std::string port = s.substr(colon + 1);
    if (port.empty() || port.find_first_not_of("0123456789") != std::string::npos) return false;
    host = s.substr(0, colon);
  }
  size_t start = 0;
  while (true) {
    auto dot = host.find('.', start);
    std::string label = host.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty() || !alnum(label.front()) || !alnum(label.back())) return false;
    for (char c : label)
      if (!alnum(c) && c != '-') return false;
    if (dot == std::string::npos) return true;
    start = dot + 1;
  }
}

/// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
bool valid_tag(const std::string& s) {
  if (s.empty() || s.size() > 128 || !(alnum(s[0]) || s[0] == '_')) return false;
  for (char c : s)
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  return true;
}

}  // namespace

bool is_domain(const std::string& first) {
  return first.find('.') != std::string::npos || first.find(':') != std::string::npos || first == "localhost";
}

Result<Reference> Reference::parse(const std::string& text) {
  if (text.empty()) return bad(text, "it is empty");
  Reference r;
  std::string rest = text;
  if (auto at = rest.find('@'); at != std::string::npos) {
    auto d = cas::Digest::parse(rest.substr(at + 1));
    if (!d) return bad(text, d.error().what());
    r.digest = d->str();
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' only if no '/' comes after it (else the colon is a port).
  auto colon = rest.rfind(':');
  if (colon != std::string::npos && rest.find('/', colon) == std::string::npos) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
    if (!valid_tag(r.tag))
      return bad(text, "tag \"" + r.tag + "\" must be 1-128 of [A-Za-z0-9_.-], not starting with . or -");
  }
  if (rest.empty()) return bad(text, "the repository name is empty");
  auto slash = rest.find('/');
  if (slash != std::string::npos && is_domain(rest.substr(0, slash))) {
    r.domain = rest.substr(0, slash);
    r.path = rest.substr(slash + 1);
    if (!valid_domain(r.domain)) return bad(text, "registry host \"" + r.domain + "\" is not valid");
  } else {
    r.domain = "docker.io";
    r.path = rest;
  }
  if (r.domain == "index.docker.io") r.domain = "docker.io";
  if (r.path.empty()) return bad(text, "the repository name is empty");
  size_t start = 0;
  while (true) {
    auto end = r.path.find('/', start);
    std::string comp = r.path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!valid_component(comp)) {
      bool upper = false;
      for (char c : comp) upper |= (c >= 'A' && c <= 'Z');
      if (upper) return bad(text, "repository name must be lowercase");
      return bad(text, "path component \"" + comp +
                           "\" must be lowercase letters and digits, separated by '.', '_', '__' or '-'");
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  if (r.domain == "docker.io" && r.path.find('/') == std::string::npos) r.path = "library/" + r.path;
  if (r.domain.size() + 1 + r.path.size() > 255) return bad(text, "repository name is longer than 255 characters");
  if (r.tag.empty() && r.digest.empty()) r.tag = "latest";
  return r;
}

std::string Reference::familiar_repository() const {
  if (domain != "docker.io") return repository();
  return path.rfind("library/", 0) == 0 && path.find('/', 8) == std::string::npos ? path.substr(8) : path;
}

std::string Reference::familiar() const {
  return familiar_repository() + (tag.empty() ? "" : ":" + tag) + (digest.empty() ? "" : "@" + digest);
}

std::string Reference::str() const {
  std::string s = repository();
  if (!tag.empty()) s += ":" + tag;
  if (!digest.empty()) s += "@" + digest;
  return s;
}

bool looks_like_id(const std::string& text) {
  std::string hex = text;
  if (hex.rfind("sha256:", 0) == 0) hex = hex.substr(7);
  if (hex.size() < 12 || hex.size() > 64) return false;
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace kiln::oci
