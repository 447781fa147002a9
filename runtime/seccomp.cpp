// Seccomp filters.
#include "runtime/seccomp.h"

#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/fd.h"
#include "common/json.h"

namespace kiln::runtime {

SeccompFilter& SeccompFilter::operator=(SeccompFilter&& o) noexcept {
  if (this != &o) {
    if (m_ctx) seccomp_release(m_ctx);
    m_ctx = o.m_ctx;
    o.m_ctx = nullptr;
  }
  return *this;
}

SeccompFilter::~SeccompFilter() {
  if (m_ctx) seccomp_release(m_ctx);
}

int SeccompProgram::install() const {
  if (insns.empty()) return 0;
  struct sock_fprog prog = {static_cast<unsigned short>(insns.size()), const_cast<struct sock_filter*>(insns.data())};
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0) return 0;
  if (errno != ENOSYS) return errno;
  return ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0 ? 0 : errno;
}

Result<SeccompProgram> SeccompFilter::compile() const {
  if (!m_ctx) return SeccompProgram();
  // libseccomp 2.5 exports only to a file descriptor.
  int mfd = ::memfd_create("kiln-seccomp", MFD_CLOEXEC);
  if (mfd < 0) return sys_error("memfd for the seccomp program");
  UniqueFd fd(mfd);
  if (int rc = seccomp_export_bpf(m_ctx, fd.get()); rc < 0)
    return make_error(ErrorCode::generic, std::string("compile the seccomp filter: ") + std::strerror(-rc));
  off_t size = ::lseek(fd.get(), 0, SEEK_END);
  auto exported = SeccompProgram::read(fd.get(), size);
  if (!exported)
    return make_error(ErrorCode::generic,
                      "compile the seccomp filter: unexpected program size " + std::to_string(size));
  return std::move(*exported);
}

std::optional<SeccompProgram> SeccompProgram::read(int fd, int64_t size) {
  if (size <= 0 || size % sizeof(struct sock_filter) != 0 || size > BPF_MAXINSNS * 8) return std::nullopt;
  SeccompProgram p;
  p.insns.resize(static_cast<size_t>(size) / sizeof(struct sock_filter));
  if (::pread(fd, p.insns.data(), static_cast<size_t>(size), 0) != size) return std::nullopt;
  return p;
}

bool SeccompProgram::send(int sock) const {
  uint32_t n = static_cast<uint32_t>(insns.size());
  return write_all(sock, &n, sizeof n).ok() && write_all(sock, insns.data(), n * sizeof(struct sock_filter)).ok();
}

std::optional<SeccompProgram> SeccompProgram::receive(int sock) {
  uint32_t n;
  if (!read_exact(sock, &n, sizeof n) || n > BPF_MAXINSNS) return std::nullopt;
  SeccompProgram p;
  p.insns.resize(n);
  if (!read_exact(sock, p.insns.data(), n * sizeof(struct sock_filter))) return std::nullopt;
  return p;
}

namespace {

bool has(CapSet caps, int cap) { return caps & (CapSet{1} << cap); }

}  // namespace

void sort_seccomp_as_tree(scmp_filter_ctx ctx) { seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2); }

Result<SeccompFilter> seccomp_from_json(const std::string& text, const std::string& path, CapSet caps) {
  auto action_of = [&](const std::string& a, int errno_ret) -> Result<uint32_t> {
    if (a == "SCMP_ACT_ALLOW") return SCMP_ACT_ALLOW;
    if (a == "SCMP_ACT_ERRNO") return SCMP_ACT_ERRNO(static_cast<uint32_t>(errno_ret));
    if (a == "SCMP_ACT_KILL" || a == "SCMP_ACT_KILL_THREAD") return SCMP_ACT_KILL;
    if (a == "SCMP_ACT_KILL_PROCESS") return SCMP_ACT_KILL_PROCESS;
    if (a == "SCMP_ACT_TRAP") return SCMP_ACT_TRAP;
    if (a == "SCMP_ACT_LOG") return SCMP_ACT_LOG;
    if (a == "SCMP_ACT_TRACE") return SCMP_ACT_TRACE(static_cast<uint32_t>(errno_ret));
    return make_error(ErrorCode::invalid_argument, path + ": unknown seccomp action " + a);
  };
  auto op_of = [&](const std::string& o) -> Result<scmp_compare> {
    if (o == "SCMP_CMP_NE") return SCMP_CMP_NE;
    if (o == "SCMP_CMP_LT") return SCMP_CMP_LT;
    if (o == "SCMP_CMP_LE") return SCMP_CMP_LE;
    if (o == "SCMP_CMP_EQ") return SCMP_CMP_EQ;
    if (o == "SCMP_CMP_GE") return SCMP_CMP_GE;
    if (o == "SCMP_CMP_GT") return SCMP_CMP_GT;
    if (o == "SCMP_CMP_MASKED_EQ") return SCMP_CMP_MASKED_EQ;
    return make_error(ErrorCode::invalid_argument, path + ": unknown seccomp operator " + o);
  };
  try {
    auto j = parse_json(text);
    int default_errno = static_cast<int>(json_int(j, "defaultErrnoRet", EPERM, 0, 4095));
    uint32_t def = TRY(action_of(j.value("defaultAction", std::string("SCMP_ACT_ALLOW")), default_errno));
    scmp_filter_ctx ctx = seccomp_init(def);
    if (!ctx) return make_error(ErrorCode::generic, "seccomp_init failed");
    SeccompFilter f(ctx);
    sort_seccomp_as_tree(ctx);
    for (const auto& rule : j.value("syscalls", nlohmann::json::array())) {
      bool applies = true;
      auto check_caps = [&](const char* key, bool want) {
        if (!rule.contains(key) || !rule[key].contains("caps")) return;
        for (const auto& c : rule[key]["caps"]) {
          int n = cap_from_name(c.get<std::string>());
          bool held = n >= 0 && has(caps, n);
          if (want && !held) applies = false;
          if (!want && held) applies = false;
        }
      };
      check_caps("includes", true);
      check_caps("excludes", false);
      if (rule.contains("includes") && rule["includes"].contains("arches")) {
        bool native = false;
        for (const auto& a : rule["includes"]["arches"]) native |= a == "amd64" || a == "x86_64";
        applies &= native;
      }
      if (!applies) continue;
      uint32_t act = TRY(action_of(rule.at("action").get<std::string>(), static_cast<int>(json_int(rule, "errnoRet", default_errno, 0, 4095))));
      if (act == def) continue;  // libseccomp refuses rules equal to the default
      std::vector<scmp_arg_cmp> args;
      for (const auto& a : rule.value("args", nlohmann::json::array()))
        args.push_back(SCMP_CMP(static_cast<unsigned>(json_uint(a, "index", std::nullopt, 5)),
                                TRY(op_of(a.at("op").get<std::string>())), json_uint(a, "value", 0),
                                json_uint(a, "valueTwo", 0)));
      std::vector<std::string> names;
      if (rule.contains("names")) names = rule["names"].get<std::vector<std::string>>();
      if (rule.contains("name")) names.push_back(rule["name"].get<std::string>());
      for (const auto& n : names) {
        int nr = seccomp_syscall_resolve_name(n.c_str());
        if (nr == __NR_SCMP_ERROR) continue;  // unknown here, as docker skips them
        int rc = seccomp_rule_add_array(ctx, act, nr, static_cast<unsigned>(args.size()), args.data());
        if (rc < 0 && rc != -EEXIST)
          return make_error(ErrorCode::invalid_argument, path + ": seccomp rule for " + n + " is not valid");
      }
    }
    return f;
  } catch (const nlohmann::json::exception& ex) {
    return make_error(ErrorCode::invalid_argument, path + ": malformed seccomp profile: " + ex.what());
  }
}

}  // namespace kiln::runtime
