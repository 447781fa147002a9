// registries.conf: read with toml++ (Debian's libtomlplusplus-dev, header only), matched as containers/image
// matches it: the longest prefix wins, a prefix matches at a path boundary, *.domain matches subdomains.
#include "oci/registries_conf.h"

#include <stdlib.h>

#include <toml++/toml.h>

#include "common/fd.h"

namespace kiln::oci {

namespace {

Error conf_error(const std::string& path, const std::string& what) {
  return make_error(ErrorCode::invalid_argument, path + ": " + what + " (see containers-registries.conf(5))");
}

Result<std::vector<std::string>> string_list(const toml::node* v, const std::string& path, const std::string& key) {
  std::vector<std::string> out;
  if (!v) return out;
  const toml::array* a = v->as_array();
  if (!a) return conf_error(path, key + " must be a list of strings");
  for (const auto& e : *a) {
    auto s = e.value<std::string>();
    if (!s) return conf_error(path, key + " must be a list of strings");
    out.push_back(*s);
  }
  return out;
}

Result<bool> boolean(const toml::table& t, const char* key, const std::string& path, const std::string& where) {
  auto v = t[key];
  if (!v) return false;
  auto b = v.value<bool>();
  if (!b || !v.is_boolean()) return conf_error(path, where + ": " + key + " must be true or false");
  return *b;
}

Result<std::string> string_field(const toml::table& t, const char* key, const std::string& path,
                                 const std::string& where) {
  auto v = t[key];
  if (!v) return std::string();
  if (!v.is_string()) return conf_error(path, where + ": " + key + " must be a string");
  return *v.value<std::string>();
}

/// A location or prefix as containers/image keeps it: no scheme, no trailing slash.
std::string trimmed(std::string s) {
  for (const char* scheme : {"https://", "http://"})
    if (s.rfind(scheme, 0) == 0) s.erase(0, std::string(scheme).size());
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

Result<RegistriesConf> parse_v1(const toml::table& root, const std::string& path) {
  RegistriesConf c;
  c.path = path;
  const toml::table* regs = root["registries"].as_table();
  c.search = TRY(string_list((*regs)["search"]["registries"].node(), path, "registries.search.registries"));
  for (const auto& h :
       TRY(string_list((*regs)["insecure"]["registries"].node(), path, "registries.insecure.registries"))) {
    RegistryEntry e;
    e.prefix = e.primary.location = trimmed(h);
    e.primary.insecure = true;
    c.registries.push_back(e);
  }
  for (const auto& h : TRY(string_list((*regs)["block"]["registries"].node(), path, "registries.block.registries"))) {
    RegistryEntry e;
    e.prefix = e.primary.location = trimmed(h);
    e.blocked = true;
    c.registries.push_back(e);
  }
  return c;
}

bool matches(const std::string& prefix, const std::string& repo) {
  if (prefix.rfind("*.", 0) == 0) {  // *.example.com: any subdomain, not example.com itself
    std::string domain = repo.substr(0, repo.find('/'));
    std::string suffix = prefix.substr(1);
    return domain.size() > suffix.size() && domain.compare(domain.size() - suffix.size(), suffix.size(), suffix) == 0;
  }
  return repo == prefix || (repo.size() > prefix.size() && repo.rfind(prefix, 0) == 0 && repo[prefix.size()] == '/');
}

/// ref moved from the entry's prefix to location: example.com/foo/app with prefix example.com/foo and location
/// mirror.local/bar is mirror.local/bar/app.
Result<Reference> moved(const RegistryEntry& e, const Reference& ref, const std::string& location) {
  std::string repo = ref.repository();
  std::string rest = e.prefix.rfind("*.", 0) == 0 ? repo.substr(repo.find('/')) : repo.substr(e.prefix.size());
  std::string text = location + rest;
  if (!ref.tag.empty()) text += ":" + ref.tag;
  if (!ref.digest.empty()) text += "@" + ref.digest;
  return Reference::parse(text);
}

Error blocked_error(const RegistriesConf& conf, const RegistryEntry& e, const Reference& ref) {
  return make_error(ErrorCode::invalid_argument, "registry " + e.prefix + " is blocked in " + conf.path + " (" +
                                                     ref.familiar() + " is not pulled or pushed)");
}

/// The line of the first byte above ASCII that is not in a comment line (0 when none). Debian's toml++ (3.3)
/// reaches an unreachable point when its whitespace test meets some such characters, which it does in values,
/// keys and escapes alike (found by fuzz_registries_conf). Registry names are ASCII, so kiln takes other
/// characters only where they cannot reach that test: after a '#' that starts its line, before any backslash.
size_t stray_non_ascii_line(const std::string& text) {
  size_t line = 1;
  bool comment_line = false, at_start = true, backslash = false;
  for (char c : text) {
    if (c == '\n') {
      ++line;
      comment_line = false, at_start = true, backslash = false;
      continue;
    }
    if (at_start && c != ' ' && c != '\t') {
      comment_line = c == '#';
      at_start = false;
    }
    backslash |= c == '\\';
    if (static_cast<unsigned char>(c) >= 0x80 && (!comment_line || backslash)) return line;
  }
  return 0;
}

}  // namespace

Result<RegistriesConf> RegistriesConf::parse(const std::string& text, const std::string& path) {
  toml::table root;
  if (size_t line = stray_non_ascii_line(text))
    return conf_error(path + ":" + std::to_string(line),
                      "a character outside ASCII: kiln takes one only in a comment line (one that starts with #)");
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return conf_error(path + ":" + std::to_string(e.source().begin.line), std::string(e.description()));
  }
  if (root["registries"].is_table()) return parse_v1(root, path);
  RegistriesConf c;
  c.path = path;
  c.search = TRY(string_list(root["unqualified-search-registries"].node(), path, "unqualified-search-registries"));
  auto regs = root["registry"];
  if (!regs) return c;
  const toml::array* list = regs.as_array();
  if (!list) return conf_error(path, "registry must be a list of tables ([[registry]])");
  for (size_t i = 0; i < list->size(); ++i) {
    const toml::table* t = (*list)[i].as_table();
    std::string where = "[[registry]] " + std::to_string(i + 1);
    if (!t) return conf_error(path, where + " is not a table");
    RegistryEntry e;
    e.prefix = trimmed(TRY(string_field(*t, "prefix", path, where)));
    e.primary.location = trimmed(TRY(string_field(*t, "location", path, where)));
    if (e.prefix.empty()) e.prefix = e.primary.location;
    if (e.primary.location.empty() && e.prefix.rfind("*.", 0) != 0) e.primary.location = e.prefix;
    if (e.prefix.empty()) return conf_error(path, where + " has neither prefix nor location");
    e.primary.insecure = TRY(boolean(*t, "insecure", path, where));
    e.blocked = TRY(boolean(*t, "blocked", path, where));
    if (auto ms = (*t)["mirror"]) {
      const toml::array* ml = ms.as_array();
      if (!ml) return conf_error(path, where + ": mirror must be a list of tables ([[registry.mirror]])");
      for (const auto& node : *ml) {
        const toml::table* m = node.as_table();
        if (!m) return conf_error(path, where + ": a mirror is not a table");
        RegistryEndpoint ep;
        ep.location = trimmed(TRY(string_field(*m, "location", path, where + " mirror")));
        if (ep.location.empty()) return conf_error(path, where + ": a mirror has no location");
        ep.insecure = TRY(boolean(*m, "insecure", path, where + " mirror"));
        std::string pfm = TRY(string_field(*m, "pull-from-mirror", path, where + " mirror"));
        if (!pfm.empty() && pfm != "all" && pfm != "digest-only" && pfm != "tag-only")
          return conf_error(path, where + ": pull-from-mirror must be all, digest-only or tag-only");
        if (!pfm.empty()) ep.pull_from_mirror = pfm;
        e.mirrors.push_back(ep);
      }
    }
    c.registries.push_back(std::move(e));
  }
  return c;
}

Result<RegistriesConf> RegistriesConf::load() {
  std::string path;
  if (const char* env = ::getenv("CONTAINERS_REGISTRIES_CONF"); env && *env) {
    path = env;
  } else {
    const char* home = ::getenv("HOME");
    std::string user = home && *home ? std::string(home) + "/.config/containers/registries.conf" : "";
    path = !user.empty() && path_exists(user) ? user : "/etc/containers/registries.conf";
  }
  auto text = read_file(path, 1u << 20);
  if (!text) {
    if (text.error().code == ErrorCode::not_found) return RegistriesConf{};
    return std::move(text).error();
  }
  return parse(*text, path);
}

const RegistryEntry* RegistriesConf::find(const Reference& ref) const {
  const RegistryEntry* best = nullptr;
  std::string repo = ref.repository();
  for (const auto& e : registries)
    if (matches(e.prefix, repo) && (!best || e.prefix.size() > best->prefix.size())) best = &e;
  return best;
}

Result<std::vector<RegistrySource>> pull_sources(const RegistriesConf& conf, const Reference& ref) {
  const RegistryEntry* e = conf.find(ref);
  if (!e) return std::vector<RegistrySource>{{ref, std::nullopt, false}};
  if (e->blocked) return blocked_error(conf, *e, ref);
  std::vector<RegistrySource> out;
  for (const auto& m : e->mirrors) {
    if (m.pull_from_mirror == "digest-only" && ref.digest.empty()) continue;
    if (m.pull_from_mirror == "tag-only" && !ref.digest.empty()) continue;
    RegistrySource s{TRY(moved(*e, ref, m.location)), std::nullopt, true};
    if (m.insecure) s.tls_verify = false;
    out.push_back(std::move(s));
  }
  RegistrySource primary{e->primary.location.empty() ? ref : TRY(moved(*e, ref, e->primary.location)), std::nullopt,
                         false};
  if (e->primary.insecure) primary.tls_verify = false;
  out.push_back(std::move(primary));
  return out;
}

Result<RegistrySource> push_target(const RegistriesConf& conf, const Reference& ref) {
  auto sources = TRY(pull_sources(conf, ref));
  return sources.back();
}

Result<std::vector<Reference>> name_candidates(const RegistriesConf& conf, const std::string& name) {
  auto ref = TRY(Reference::parse(name));
  std::string first = name.substr(0, name.find('/'));
  bool names_registry = name.find('/') != std::string::npos && is_domain(first);
  if (names_registry || conf.search.empty()) return std::vector<Reference>{ref};
  std::vector<Reference> out;
  for (const auto& reg : conf.search) {
    // The short name's own path at that registry ("library/" only where docker.io's rule adds it).
    out.push_back(TRY_CTX(Reference::parse(trimmed(reg) + "/" + name), conf.path + ": unqualified-search-registries"));
  }
  return out;
}

}  // namespace kiln::oci
