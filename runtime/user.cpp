// User and group resolution from passwd/group text.
#include "runtime/user.h"

#include <sstream>

#include "common/number.h"

namespace kiln::runtime {

namespace {

std::vector<std::string> fields(const std::string& line) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t c = line.find(':', start);
    out.push_back(line.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

/// All digits: a number, which must then be an id (0..4294967294; 4294967295 is (uid_t)-1, "unchanged").
bool all_digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

bool numeric(const std::string& s, unsigned long& v) {
  auto n = parse_uint(s, kMaxId);
  if (n) v = static_cast<unsigned long>(*n);
  return n.has_value();
}

template <typename F>
void each_line(const std::string& text, F&& f) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    f(fields(line));
  }
}

}  // namespace

std::string owner_name(uid_t uid, const std::string& passwd) {
  std::string name, id = std::to_string(uid);
  each_line(passwd, [&](const std::vector<std::string>& f) {
    if (name.empty() && f.size() > 2 && !f[0].empty() && f[2] == id) name = f[0];
  });
  return name.empty() ? "#" + id : name;
}

Result<ResolvedUser> resolve_user(const std::string& spec, const std::string& passwd, const std::string& group) {
  ResolvedUser u;
  std::string user = spec, grp;
  if (auto c = spec.find(':'); c != std::string::npos) {
    user = spec.substr(0, c);
    grp = spec.substr(c + 1);
  }
  if (user.empty()) user = "0";
  unsigned long num = 0;
  bool user_numeric = numeric(user, num);
  if (!user_numeric && all_digits(user))
    return make_error(ErrorCode::invalid_argument, "invalid user " + user + ": ids run from 0 to " + std::to_string(kMaxId));
  bool found = false;
  std::string name;
  each_line(passwd, [&](const std::vector<std::string>& f) {
    if (found || f.size() < 7) return;
    unsigned long uid, gid;
    if (!numeric(f[2], uid) || !numeric(f[3], gid)) return;
    if ((user_numeric && uid == num) || (!user_numeric && f[0] == user)) {
      found = true;
      name = f[0];
      u.uid = static_cast<uid_t>(uid);
      u.gid = static_cast<gid_t>(gid);
      u.home = f[5].empty() ? "/" : f[5];
    }
  });
  if (!found) {
    if (!user_numeric)
      return make_error(ErrorCode::invalid_argument,
                        "unable to find user " + user + ": no matching entries in the image's /etc/passwd");
    u.uid = static_cast<uid_t>(num);
    u.gid = 0;
  }
  if (!grp.empty()) {
    bool gnum = numeric(grp, num);
    if (!gnum && all_digits(grp))
      return make_error(ErrorCode::invalid_argument, "invalid group " + grp + ": ids run from 0 to " + std::to_string(kMaxId));
    bool gfound = false;
    each_line(group, [&](const std::vector<std::string>& f) {
      if (gfound || f.size() < 3) return;
      unsigned long gid;
      if (!numeric(f[2], gid)) return;
      if ((gnum && gid == num) || (!gnum && f[0] == grp)) {
        gfound = true;
        u.gid = static_cast<gid_t>(gid);
      }
    });
    if (!gfound) {
      if (!gnum)
        return make_error(ErrorCode::invalid_argument,
                          "unable to find group " + grp + ": no matching entries in the image's /etc/group");
      u.gid = static_cast<gid_t>(num);
    }
    return u;  // an explicit group replaces supplementary groups, as docker does
  }
  if (!name.empty()) {
    each_line(group, [&](const std::vector<std::string>& f) {
      if (f.size() < 4) return;
      unsigned long gid;
      if (!numeric(f[2], gid)) return;
      std::istringstream members(f[3]);
      std::string m;
      while (std::getline(members, m, ','))
        if (m == name && static_cast<gid_t>(gid) != u.gid) u.groups.push_back(static_cast<gid_t>(gid));
    });
  }
  return u;
}

}  // namespace kiln::runtime
