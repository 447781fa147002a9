// The JSON adapter for image-spec types: the one file that calls nlohmann::json for them and catches its exceptions.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "oci/image.h"
#include "oci/media_types.h"
#include "common/json.h"

namespace kiln::oci {

using nlohmann::json;

namespace {

Platform platform_from(const json& j) {
  Platform p;
  p.architecture = j.value("architecture", "");
  p.os = j.value("os", "");
  p.variant = j.value("variant", "");
  return p;
}

Descriptor descriptor_from(const json& j) {
  Descriptor d;
  d.media_type = j.value("mediaType", "");
  auto dig = cas::Digest::parse(j.at("digest").get<std::string>());
  if (!dig) throw std::runtime_error(dig.error().what());
  d.digest = *dig;
  d.size = json_uint(j, "size", std::nullopt);
  if (j.contains("annotations")) d.annotations = j["annotations"].get<std::map<std::string, std::string>>();
  if (j.contains("platform")) d.platform = platform_from(j["platform"]);
  return d;
}

json descriptor_to(const Descriptor& d) {
  json j = {{"mediaType", d.media_type}, {"digest", d.digest.str()}, {"size", d.size}};
  if (!d.annotations.empty()) j["annotations"] = d.annotations;
  if (d.platform) {
    j["platform"] = {{"architecture", d.platform->architecture}, {"os", d.platform->os}};
    if (!d.platform->variant.empty()) j["platform"]["variant"] = d.platform->variant;
  }
  return j;
}

std::vector<std::string> strings(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (const auto& s : j) out.push_back(s.get<std::string>());
  else if (j.is_string())
    out.push_back(j.get<std::string>());
  return out;
}

std::vector<std::string> keys(const json& j) {
  std::vector<std::string> out;
  if (j.is_object())
    for (auto it = j.begin(); it != j.end(); ++it) out.push_back(it.key());
  return out;
}

template <typename F>
auto guarded(const char* what, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const std::exception& ex) {
    return make_error(ErrorCode::corrupt, std::string("malformed ") + what + ": " + ex.what());
  }
}

}  // namespace

Result<Manifest> parse_manifest(std::string_view bytes) {
  return guarded("image manifest", [&]() -> Result<Manifest> {
    json j = parse_json(bytes);
    if (json_int(j, "schemaVersion", 0, INT64_MIN, INT64_MAX) != 2)
      return make_error(ErrorCode::unsupported, "image manifest schemaVersion must be 2");
    Manifest m;
    m.media_type = j.value("mediaType", "");
    if (j.contains("manifests"))
      return make_error(ErrorCode::unsupported, "expected an image manifest, found an index");
    m.config = descriptor_from(j.at("config"));
    for (const auto& l : j.value("layers", json::array())) m.layers.push_back(descriptor_from(l));
    if (j.contains("annotations")) m.annotations = j["annotations"].get<std::map<std::string, std::string>>();
    return m;
  });
}

Result<Index> parse_index(std::string_view bytes) {
  return guarded("image index", [&]() -> Result<Index> {
    json j = parse_json(bytes);
    Index ix;
    ix.media_type = j.value("mediaType", "");
    for (const auto& m : j.at("manifests")) ix.manifests.push_back(descriptor_from(m));
    return ix;
  });
}

Result<std::string> sniff_media_type(std::string_view bytes) {
  return guarded("manifest", [&]() -> Result<std::string> {
    json j = parse_json(bytes);
    if (!j.is_object()) return make_error(ErrorCode::corrupt, "manifest is not a JSON object");
    std::string mt = j.value("mediaType", "");
    if (mt.empty()) mt = j.contains("manifests") ? media::oci_index : media::oci_manifest;
    return mt;
  });
}

Result<ImageConfig> parse_config(std::string_view bytes) {
  return guarded("image config", [&]() -> Result<ImageConfig> {
    json j = parse_json(bytes);
    ImageConfig c;
    c.created = j.value("created", "");
    c.author = j.value("author", "");
    c.platform = platform_from(j);
    if (j.contains("config") && j["config"].is_object()) {
      const json& r = j["config"];
      RunConfig& rc = c.config;
      rc.user = r.value("User", "");
      if (r.contains("Env")) rc.env = strings(r["Env"]);
      if (r.contains("Entrypoint") && !r["Entrypoint"].is_null()) rc.entrypoint = strings(r["Entrypoint"]);
      if (r.contains("Cmd") && !r["Cmd"].is_null()) rc.cmd = strings(r["Cmd"]);
      rc.working_dir = r.value("WorkingDir", "");
      if (r.contains("Labels") && r["Labels"].is_object())
        rc.labels = r["Labels"].get<std::map<std::string, std::string>>();
      if (r.contains("ExposedPorts")) rc.exposed_ports = keys(r["ExposedPorts"]);
      if (r.contains("Volumes")) rc.volumes = keys(r["Volumes"]);
      rc.stop_signal = r.value("StopSignal", "");
      if (r.contains("OnBuild")) rc.on_build = strings(r["OnBuild"]);
      if (r.contains("Shell")) rc.shell = strings(r["Shell"]);
      rc.args_escaped = r.value("ArgsEscaped", false);
      if (r.contains("Healthcheck") && r["Healthcheck"].is_object()) {
        const json& h = r["Healthcheck"];
        Healthcheck hc;
        if (h.contains("Test")) hc.test = strings(h["Test"]);
        hc.interval = json_int(h, "Interval", 0, INT64_MIN, INT64_MAX);
        hc.timeout = json_int(h, "Timeout", 0, INT64_MIN, INT64_MAX);
        hc.start_period = json_int(h, "StartPeriod", 0, INT64_MIN, INT64_MAX);
        hc.start_interval = json_int(h, "StartInterval", 0, INT64_MIN, INT64_MAX);
        hc.retries = static_cast<int>(json_int(h, "Retries", 0, INT32_MIN, INT32_MAX));
        rc.healthcheck = hc;
      }
    }
    if (j.contains("rootfs")) {
      for (const auto& id : j["rootfs"].value("diff_ids", json::array())) {
        auto d = cas::Digest::parse(id.get<std::string>());
        if (!d) return std::move(d).error();
        c.diff_ids.push_back(*d);
      }
    }
    for (const auto& h : j.value("history", json::array()))
      c.history.push_back(HistoryEntry{h.value("created", ""), h.value("created_by", ""), h.value("comment", ""),
                                       h.value("empty_layer", false)});
    return c;
  });
}

std::string to_json(const Manifest& m) {
  json j = {{"schemaVersion", 2}, {"config", descriptor_to(m.config)}, {"layers", json::array()}};
  if (!m.media_type.empty()) j["mediaType"] = m.media_type;
  for (const auto& l : m.layers) j["layers"].push_back(descriptor_to(l));
  if (!m.annotations.empty()) j["annotations"] = m.annotations;
  return json_text(j);
}

std::string to_json(const Index& ix) {
  json j = {{"schemaVersion", 2},
            {"mediaType", ix.media_type.empty() ? media::oci_index : ix.media_type},
            {"manifests", json::array()}};
  for (const auto& m : ix.manifests) j["manifests"].push_back(descriptor_to(m));
  return json_text(j);
}

std::string to_json(const ImageConfig& c) {
  json j = {{"architecture", c.platform.architecture}, {"os", c.platform.os}};
  if (!c.platform.variant.empty()) j["variant"] = c.platform.variant;
  if (!c.created.empty()) j["created"] = c.created;
  if (!c.author.empty()) j["author"] = c.author;
  json r = json::object();
  const RunConfig& rc = c.config;
  if (!rc.user.empty()) r["User"] = rc.user;
  if (!rc.env.empty()) r["Env"] = rc.env;
  if (rc.entrypoint) r["Entrypoint"] = *rc.entrypoint;
  if (rc.cmd) r["Cmd"] = *rc.cmd;
  if (!rc.working_dir.empty()) r["WorkingDir"] = rc.working_dir;
  if (!rc.labels.empty()) r["Labels"] = rc.labels;
  for (const auto& p : rc.exposed_ports) r["ExposedPorts"][p] = json::object();
  for (const auto& v : rc.volumes) r["Volumes"][v] = json::object();
  if (!rc.stop_signal.empty()) r["StopSignal"] = rc.stop_signal;
  if (!rc.on_build.empty()) r["OnBuild"] = rc.on_build;
  if (!rc.shell.empty()) r["Shell"] = rc.shell;
  if (rc.args_escaped) r["ArgsEscaped"] = true;
  if (rc.healthcheck) {
    const Healthcheck& h = *rc.healthcheck;
    json hj = {{"Test", h.test}};
    if (h.interval) hj["Interval"] = h.interval;
    if (h.timeout) hj["Timeout"] = h.timeout;
    if (h.start_period) hj["StartPeriod"] = h.start_period;
    if (h.start_interval) hj["StartInterval"] = h.start_interval;
    if (h.retries) hj["Retries"] = h.retries;
    r["Healthcheck"] = hj;
  }
  j["config"] = r;
  json ids = json::array();
  for (const auto& d : c.diff_ids) ids.push_back(d.str());
  j["rootfs"] = {{"type", "layers"}, {"diff_ids", ids}};
  json hist = json::array();
  for (const auto& h : c.history) {
    json e = json::object();
    if (!h.created.empty()) e["created"] = h.created;
    if (!h.created_by.empty()) e["created_by"] = h.created_by;
    if (!h.comment.empty()) e["comment"] = h.comment;
    if (h.empty_layer) e["empty_layer"] = true;
    hist.push_back(e);
  }
  j["history"] = hist;
  return json_text(j);
}

std::string pretty_json(std::string_view bytes) {
  try {
    return json_text(parse_json(bytes), 2);
  } catch (const json::exception&) {
    return std::string(bytes);
  }
}

std::string rfc3339(int64_t unix_seconds) {
  // The civil date by std::chrono, not gmtime_r: glibc's gmtime_r reads the local time zone (/etc/localtime)
  // on first use, for nothing in UTC.
  using namespace std::chrono;
  sys_seconds t{seconds{unix_seconds}};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

int64_t parse_rfc3339(const std::string& s) {
  struct tm tm = {};
  const char* rest = strptime(s.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return -1;
  int64_t t = static_cast<int64_t>(timegm(&tm));
  while (*rest == '.' || (*rest >= '0' && *rest <= '9')) ++rest;
  if (*rest == '+' || *rest == '-') {
    int hh = 0, mm = 0;
    if (sscanf(rest + 1, "%d:%d", &hh, &mm) >= 1) t -= (*rest == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
  }
  return t;
}

}  // namespace kiln::oci
