// The device program, written out instruction by instruction (no compiler or libbpf needed).
#include "runtime/devices.h"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/fd.h"

namespace kiln::runtime {

namespace {

bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  bpf_insn i;
  std::memset(&i, 0, sizeof i);
  i.code = code;
  i.dst_reg = dst & 0xf;
  i.src_reg = src & 0xf;
  i.off = off;
  i.imm = imm;
  return i;
}

/// A few instructions with forward jumps to named labels, resolved by done().
struct Program {
  std::vector<bpf_insn> p;
  std::vector<std::pair<size_t, int>> jumps;  ///< (instruction, label)
  std::vector<size_t> labels;

  void op(uint8_t code, uint8_t dst, uint8_t src, int32_t imm, int16_t off = 0) {
    p.push_back(insn(code, dst, src, off, imm));
  }
  /// if (dst <cmp> imm) goto label
  void jump(uint8_t cmp, uint8_t dst, int32_t imm, int label) {
    jumps.emplace_back(p.size(), label);
    op(BPF_JMP | cmp | BPF_K, dst, 0, imm);
  }
  void label(int l) {
    if (labels.size() <= static_cast<size_t>(l)) labels.resize(l + 1);
    labels[l] = p.size();
  }
  /// r0 = verdict; exit
  void verdict(int allow) {
    op(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, allow);
    op(BPF_JMP | BPF_EXIT, 0, 0, 0);
  }
  std::vector<bpf_insn> done() {
    for (auto [at, l] : jumps) p[at].off = static_cast<int16_t>(labels[l] - at - 1);
    return p;
  }
};

/// docker's default allow list: /dev/null, zero, full, random, urandom (1:3,5,7,8,9), tty, console, ptmx
/// (5:0-2) and /dev/pts/* (majors 136-143); creating any node is allowed, opening it is what counts. Written as
/// ranges and a bit mask rather than one test per device: the kernel's verifier walks every branch at each
/// load, so fewer instructions load faster (68 became 26; bench/PERFORMANCE.md).
std::vector<bpf_insn> program() {
  enum { kNotMknod, kNotMemory, kNotTty, kDeny };
  Program g;
  constexpr uint32_t kMemoryMinors = 1u << 3 | 1u << 5 | 1u << 7 | 1u << 8 | 1u << 9;
  // struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; } in r1.
  g.op(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0);
  g.op(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0);
  g.op(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0xffff);  // r3 = type
  g.op(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 16);      // r2 = access
  g.jump(BPF_JNE, BPF_REG_2, BPF_DEVCG_ACC_MKNOD, kNotMknod);
  g.verdict(1);
  g.label(kNotMknod);
  g.jump(BPF_JNE, BPF_REG_3, BPF_DEVCG_DEV_CHAR, kDeny);        // block devices: never
  g.op(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 0, 4);  // r4 = major
  g.op(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 0, 8);  // r5 = minor
  g.jump(BPF_JNE, BPF_REG_4, 1, kNotMemory);
  g.jump(BPF_JGT, BPF_REG_5, 9, kDeny);
  g.op(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, kMemoryMinors);  // r0 = (mask >> minor) & 1
  g.op(BPF_ALU64 | BPF_RSH | BPF_X, BPF_REG_0, BPF_REG_5, 0);
  g.op(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 1);
  g.op(BPF_JMP | BPF_EXIT, 0, 0, 0);
  g.label(kNotMemory);
  g.jump(BPF_JNE, BPF_REG_4, 5, kNotTty);
  g.jump(BPF_JGT, BPF_REG_5, 2, kDeny);
  g.verdict(1);
  g.label(kNotTty);
  g.op(BPF_ALU64 | BPF_ADD | BPF_K, BPF_REG_4, 0, -136);  // majors 136-143, unsigned: below 136 wraps high
  g.jump(BPF_JGT, BPF_REG_4, 7, kDeny);
  g.verdict(1);
  g.label(kDeny);
  g.verdict(0);
  return g.done();
}

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

/// The program's name in the kernel (bpf_prog_info.name, at most 15 characters): how kiln recognises its own
/// program on a parent cgroup. A change to program() takes a new number, so an older program gets replaced.
constexpr char kProgramName[] = "kiln_devices_1";

uint64_t ptr(const void* p) { return reinterpret_cast<uint64_t>(p); }

/// True when kiln's device program is attached to the cgroup at cgroup_fd itself (not only to an ancestor).
bool has_kiln_program(int cgroup_fd) {
  uint32_t ids[8];
  bpf_attr q;
  std::memset(&q, 0, sizeof q);
  q.query.target_fd = static_cast<uint32_t>(cgroup_fd);
  q.query.attach_type = BPF_CGROUP_DEVICE;
  q.query.prog_ids = ptr(ids);
  q.query.prog_cnt = 8;
  if (bpf(BPF_PROG_QUERY, q) < 0) return false;
  for (uint32_t i = 0; i < std::min<uint32_t>(q.query.prog_cnt, 8); ++i) {
    bpf_attr by_id;
    std::memset(&by_id, 0, sizeof by_id);
    by_id.prog_id = ids[i];
    UniqueFd prog(static_cast<int>(bpf(BPF_PROG_GET_FD_BY_ID, by_id)));
    if (!prog.valid()) continue;
    bpf_prog_info info;
    std::memset(&info, 0, sizeof info);
    bpf_attr get;
    std::memset(&get, 0, sizeof get);
    get.info.bpf_fd = static_cast<uint32_t>(prog.get());
    get.info.info_len = sizeof info;
    get.info.info = ptr(&info);
    if (bpf(BPF_OBJ_GET_INFO_BY_FD, get) == 0 && info.type == BPF_PROG_TYPE_CGROUP_DEVICE &&
        std::strncmp(info.name, kProgramName, sizeof info.name) == 0)
      return true;
  }
  return false;
}

/// Load a device program named name and attach it to the cgroup at cgroup_fd.
Status attach_device_program(int cgroup_fd, const std::vector<bpf_insn>& prog, const char* name) {
  auto load = [&](char* log, uint32_t log_size) {
    bpf_attr a;
    std::memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = ptr(prog.data());
    a.insn_cnt = static_cast<uint32_t>(prog.size());
    a.license = ptr("Apache-2.0");
    a.log_buf = ptr(log);
    a.log_size = log_size;
    a.log_level = log ? 1 : 0;
    std::strncpy(a.prog_name, name, sizeof a.prog_name - 1);
    return static_cast<int>(bpf(BPF_PROG_LOAD, a));
  };
  int fd = load(nullptr, 0);
  if (fd < 0) {
    int e = errno;
    std::vector<char> log(1 << 16);  // once more with the verifier's log, for the reason
    UniqueFd again(load(log.data(), static_cast<uint32_t>(log.size())));
    std::string why(log.data(), ::strnlen(log.data(), log.size()));
    why = why.substr(0, why.find('\n'));  // its first line: one line for the user
    errno = e;
    return sys_error("load the device filter" + (why.empty() ? "" : " (" + why + ")"));
  }
  UniqueFd owned(fd);
  bpf_attr attach;
  std::memset(&attach, 0, sizeof attach);
  attach.target_fd = static_cast<uint32_t>(cgroup_fd);
  attach.attach_bpf_fd = static_cast<uint32_t>(fd);
  attach.attach_type = BPF_CGROUP_DEVICE;
  // No flags: one program per cgroup, so a second attach (two kilns at once) replaces the first instead of
  // adding to it, and no cgroup below can attach a program of its own.
  if (bpf(BPF_PROG_ATTACH, attach) < 0) return sys_error("attach the device filter to the containers' cgroup");
  return {};  // the cgroup holds the program now
}

}  // namespace

Status ensure_device_filter(int cgroup_fd) {
  if (has_kiln_program(cgroup_fd)) return {};
  return attach_device_program(cgroup_fd, program(), kProgramName);
}

DevicePolicy device_policy(const std::vector<DeviceRule>& rules) {
  DevicePolicy p;
  auto same_device = [](const DeviceRule& a, const DeviceRule& b) {
    return a.type == b.type && a.major == b.major && a.minor == b.minor;
  };
  for (const auto& r : rules) {
    if (r.type == 'a' && r.major < 0 && r.minor < 0) {  // every device: a new default, the exceptions gone
      p.default_allow = r.allow;
      p.exceptions.clear();
      continue;
    }
    if (r.allow != p.default_allow) {
      p.exceptions.push_back(r);
      continue;
    }
    // The same verdict as the default: it takes its access back from an earlier exception for this device.
    for (auto& e : p.exceptions)
      if (same_device(e, r))
        for (char a : r.access) e.access.erase(std::remove(e.access.begin(), e.access.end(), a), e.access.end());
    p.exceptions.erase(std::remove_if(p.exceptions.begin(), p.exceptions.end(),
                                      [](const DeviceRule& e) { return e.access.empty(); }),
                       p.exceptions.end());
  }
  return p;
}

std::vector<bpf_insn> policy_program(const DevicePolicy& policy) {
  Program g;
  // r2 = access, r3 = type, r4 = major, r5 = minor (struct bpf_cgroup_dev_ctx in r1)
  g.op(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0);
  g.op(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0);
  g.op(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0xffff);
  g.op(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 16);
  g.op(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 0, 4);
  g.op(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 0, 8);
  int next = 0;
  for (const auto& e : policy.exceptions) {
    int32_t access = 0;
    for (char a : e.access) access |= a == 'r' ? BPF_DEVCG_ACC_READ : a == 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
    if (e.type != 'a') g.jump(BPF_JNE, BPF_REG_3, e.type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR, next);
    if (e.major >= 0) g.jump(BPF_JNE, BPF_REG_4, static_cast<int32_t>(e.major), next);
    if (e.minor >= 0) g.jump(BPF_JNE, BPF_REG_5, static_cast<int32_t>(e.minor), next);
    g.op(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_1, BPF_REG_2, 0);  // the access asked for, all within the rule's
    g.op(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_1, 0, access);
    g.jumps.emplace_back(g.p.size(), next);
    g.op(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_1, BPF_REG_2, 0);
    g.verdict(policy.default_allow ? 0 : 1);
    g.label(next++);
  }
  g.verdict(policy.default_allow ? 1 : 0);
  return g.done();
}

Status attach_device_rules(int cgroup_fd, const std::vector<DeviceRule>& rules) {
  return attach_device_program(cgroup_fd, policy_program(device_policy(rules)), "kiln_devrules");
}

std::vector<DeviceRule> default_device_rules() {
  std::vector<DeviceRule> out = {{true, 'c', -1, -1, "m"}, {true, 'b', -1, -1, "m"}};
  for (int64_t minor : {3, 5, 7, 8, 9}) out.push_back({true, 'c', 1, minor, "rwm"});
  for (int64_t minor : {0, 1, 2}) out.push_back({true, 'c', 5, minor, "rwm"});
  for (int64_t major = 136; major <= 143; ++major) out.push_back({true, 'c', major, -1, "rwm"});
  return out;
}

const std::vector<const char*>& v1_device_rules() {
  static const std::vector<const char*> rules = {"c *:* m",   "b *:* m",   "c 1:3 rwm",  "c 1:5 rwm",
                                                 "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",  "c 5:0 rwm",
                                                 "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm"};
  return rules;
}

}  // namespace kiln::runtime
