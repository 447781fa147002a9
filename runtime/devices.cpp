// The device program, written out instruction by instruction (no compiler or libbpf needed).
#include "runtime/devices.h"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "common/fd.h"

namespace kiln::runtime {

namespace {

struct Rule {
  int major, minor;  ///< minor -1: any
};

// docker's default: /dev/null, zero, full, random, urandom, tty, console, ptmx, and /dev/pts/* (majors 136-143).
constexpr Rule kAllowed[] = {{1, 3},    {1, 5},    {1, 7},    {1, 8},    {1, 9},    {5, 0},    {5, 1},    {5, 2},
                             {136, -1}, {137, -1}, {138, -1}, {139, -1}, {140, -1}, {141, -1}, {142, -1}, {143, -1}};

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

/// r0 = verdict; exit
void verdict(std::vector<bpf_insn>& p, int allow) {
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, allow));
  p.push_back(insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0));
}

std::vector<bpf_insn> program() {
  std::vector<bpf_insn> p;
  // struct bpf_cgroup_dev_ctx { u32 access_type (access << 16 | type); u32 major; u32 minor; } in r1.
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, 0, 0));
  p.push_back(insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_3, BPF_REG_2, 0, 0));
  p.push_back(insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_3, 0, 0, 0xffff));   // r3 = type
  p.push_back(insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 16));       // r2 = access
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_4, BPF_REG_1, 4, 0));  // r4 = major
  p.push_back(insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_5, BPF_REG_1, 8, 0));  // r5 = minor
  // Creating a node is allowed (as docker does): opening it is what counts.
  p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 2, BPF_DEVCG_ACC_MKNOD));
  verdict(p, 1);
  std::vector<size_t> to_deny;
  to_deny.push_back(p.size());
  p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_3, 0, 0, BPF_DEVCG_DEV_CHAR));  // block devices: never
  for (const Rule& r : kAllowed) {
    int16_t skip = r.minor < 0 ? 2 : 3;  // over this rule's remaining instructions
    p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_4, 0, skip, r.major));
    if (r.minor >= 0) p.push_back(insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_5, 0, 2, r.minor));
    verdict(p, 1);
  }
  size_t deny = p.size();
  verdict(p, 0);
  for (size_t at : to_deny) p[at].off = static_cast<int16_t>(deny - at - 1);
  return p;
}

long bpf(int cmd, bpf_attr& attr) { return ::syscall(SYS_bpf, cmd, &attr, sizeof attr); }

}  // namespace

Status attach_device_filter(int cgroup_fd) {
  std::vector<bpf_insn> prog = program();
  auto load = [&](char* log, uint32_t log_size) {
    bpf_attr a;
    std::memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
    a.insns = reinterpret_cast<uint64_t>(prog.data());
    a.insn_cnt = static_cast<uint32_t>(prog.size());
    a.license = reinterpret_cast<uint64_t>("Apache-2.0");
    a.log_buf = reinterpret_cast<uint64_t>(log);
    a.log_size = log_size;
    a.log_level = log ? 1 : 0;
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
  if (bpf(BPF_PROG_ATTACH, attach) < 0) return sys_error("attach the device filter to the container's cgroup");
  return {};  // the cgroup holds the program now; it goes with the cgroup
}

}  // namespace kiln::runtime
