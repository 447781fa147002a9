// Tests for runtime/seccomp and seccomp_cache: profiles build; an installed default program really blocks in a
// child process; the cache hands back the very program libseccomp compiled and distrusts what it did not write.
#include "runtime/seccomp.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "common/build_id.h"
#include "runtime/bundle_config.h"
#include "runtime/bundle_process.h"
#include "runtime/seccomp_cache.h"
#include "runtime/seccomp_default.h"
#include "runtime/signals.h"

namespace kiln::runtime {
namespace {

/// Fork, install the program, run f; the child's exit code is what f returns.
template <typename F>
int in_child(const SeccompProgram& program, F f) {
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (program.install() != 0) _exit(99);
    _exit(f());
  }
  int st;
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

template <typename F>
int in_child(const SeccompFilter& filter, F f) {
  auto program = filter.compile();
  return program.ok() ? in_child(*program, f) : 98;
}

TEST(Seccomp, DefaultBlocksNamespaceAndMountCalls) {
  auto f = default_seccomp(default_caps());
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(in_child(*f, [] { return unshare(CLONE_NEWNS) < 0 && errno == EPERM ? 0 : 1; }), 0);
  EXPECT_EQ(in_child(*f, [] { return getpid() > 0 ? 0 : 1; }), 0);
  EXPECT_EQ(in_child(*f,
                     [] {
                       pid_t p = fork();  // plain fork (clone without namespace flags) still works
                       if (p == 0) _exit(0);
                       int st;
                       return waitpid(p, &st, 0) == p ? 0 : 1;
                     }),
            0);
}

TEST(Seccomp, DefaultTablesNameOnlyRealCalls) {
  // A name libseccomp does not know would be skipped, and a call kiln meant to allow would answer EPERM.
  for (const auto& n : default_profile_names()) {
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, n.c_str());
    EXPECT_GE(nr, 0) << n << " is not an x86-64 system call libseccomp knows";
    EXPECT_LE(nr, default_profile_newest_call()) << n << " is newer than the profile's newest call";
  }
}

TEST(Seccomp, DefaultIsAnAllowList) {
  auto f = default_seccomp(default_caps());
  ASSERT_TRUE(f.ok());
  auto fails_with = [&](int err, auto call) {
    return in_child(*f, [&] { return call() < 0 && errno == err ? 0 : 1; });
  };
  // Calls kiln knows and does not allow: EPERM. keyctl, process_madvise (CAP_SYS_PTRACE), kexec_load.
  EXPECT_EQ(fails_with(EPERM, [] { return syscall(SYS_keyctl, 0, 0, 0, 0, 0); }), 0);
  EXPECT_EQ(fails_with(EPERM, [] { return syscall(SYS_process_madvise, 0, 0, 0, 0, 0); }), 0);
  EXPECT_EQ(fails_with(EPERM, [] { return syscall(SYS_kexec_load, 0, 0, 0, 0); }), 0);
  // Calls newer than kiln (cachestat 451, statmount 457, listmount 458, lsm_set_self_attr 460, and beyond):
  // ENOSYS, so libc falls back as on an older kernel.
  for (long nr : {451L, 457L, 458L, 460L, 462L, 600L, 1000L})
    EXPECT_EQ(fails_with(ENOSYS, [nr] { return syscall(nr, 0, 0, 0, 0, 0); }), 0) << nr;
  // Argument filters: vsock is refused (the network namespace does not confine it), other families are not.
  EXPECT_EQ(fails_with(EPERM, [] { return socket(AF_VSOCK, SOCK_STREAM, 0); }), 0);
  EXPECT_EQ(in_child(*f, [] { return socket(AF_UNIX, SOCK_STREAM, 0) >= 0 ? 0 : 1; }), 0);
  EXPECT_EQ(in_child(*f, [] { return syscall(SYS_personality, 0xffffffffUL) >= 0 ? 0 : 1; }), 0);
  EXPECT_EQ(fails_with(EPERM, [] { return syscall(SYS_personality, 0x0040000UL); }), 0);  // ADDR_NO_RANDOMIZE
  EXPECT_EQ(fails_with(EPERM, [] { return syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0); }), 0);
  EXPECT_EQ(fails_with(ENOSYS, [] { return syscall(SYS_clone3, 0, 0); }), 0);
}

TEST(Seccomp, DefaultFollowsCapabilities) {
  auto admin = default_seccomp(default_caps() | (CapSet{1} << CAP_SYS_ADMIN));
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(in_child(*admin, [] { return unshare(CLONE_NEWUTS) == 0 ? 0 : 1; }), 0);
  auto ptrace = default_seccomp(default_caps() | (CapSet{1} << CAP_SYS_PTRACE));
  ASSERT_TRUE(ptrace.ok());
  EXPECT_EQ(in_child(*ptrace, [] { return syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0) >= 0 ? 0 : 1; }), 0);
}

TEST(Seccomp, JsonProfile) {
  const char* profile = R"({"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
      {"names":["getppid"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
      {"names":["no_such_syscall_anywhere"],"action":"SCMP_ACT_ERRNO"}]})";
  auto f = seccomp_from_json(profile, "p.json", default_caps());
  ASSERT_TRUE(f.ok()) << f.error().what();
  EXPECT_EQ(in_child(*f, [] { return syscall(SYS_getppid) < 0 && errno == 13 ? 0 : 1; }), 0);
  EXPECT_FALSE(seccomp_from_json("{", "p.json", 0).ok());
  auto bad = seccomp_from_json(R"({"defaultAction":"SCMP_ACT_NOPE"})", "p.json", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().what().find("p.json"), std::string::npos);
}

struct CacheDir : ::testing::Test {
  std::string dir;
  void SetUp() override {
    char tmpl[] = "/tmp/kiln-seccomp-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir = std::string(tmpl) + "/cache";
  }
  void TearDown() override { std::filesystem::remove_all(std::filesystem::path(dir).parent_path()); }
  std::vector<std::filesystem::path> entries() const {
    std::vector<std::filesystem::path> v;
    if (std::filesystem::exists(dir))
      for (const auto& e : std::filesystem::directory_iterator(dir)) v.push_back(e.path());
    return v;
  }
};

bool same(const SeccompProgram& a, const SeccompProgram& b) {
  return a.insns.size() == b.insns.size() &&
         std::memcmp(a.insns.data(), b.insns.data(), a.insns.size() * sizeof(struct sock_filter)) == 0;
}

TEST_F(CacheDir, KeepsTheCompiledProgramAndReusesIt) {
  ASSERT_FALSE(build_id_hex().empty()) << "the test binary is linked with a build ID";
  auto compiled = default_seccomp(default_caps())->compile();
  ASSERT_TRUE(compiled.ok());
  auto first = seccomp_program("", default_caps(), dir);
  ASSERT_TRUE(first.ok()) << first.error().what();
  EXPECT_TRUE(same(*first, *compiled));
  auto files = entries();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].filename().string().rfind(build_id_hex() + "-", 0), 0u);
  // Read back, not compiled: prove it by planting a program that only the cache can have supplied.
  SeccompProgram planted;
  planted.insns = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | 7)};
  {
    std::ofstream out(files[0], std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(planted.insns.data()), sizeof(struct sock_filter));
  }
  auto again = seccomp_program("", default_caps(), dir);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(same(*again, planted));
  // Other caps are another key: compiled afresh, a second entry.
  auto more = seccomp_program("", default_caps() | (CapSet{1} << CAP_SYS_ADMIN), dir);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(same(*more, planted));
  EXPECT_EQ(entries().size(), 2u);
  EXPECT_EQ(in_child(*more, [] { return unshare(CLONE_NEWUTS) == 0 ? 0 : 1; }), 0);
}

TEST_F(CacheDir, DistrustsMalformedOrForeignEntries) {
  ASSERT_TRUE(seccomp_program("", default_caps(), dir).ok());
  auto path = entries().at(0);
  auto reference = default_seccomp(default_caps())->compile();
  // A torn entry (not a whole number of instructions) is compiled again and replaced.
  std::filesystem::resize_file(path, 12);
  auto p = seccomp_program("", default_caps(), dir);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(same(*p, *reference));
  EXPECT_EQ(std::filesystem::file_size(path), reference->insns.size() * sizeof(struct sock_filter));
  // A group- or world-writable entry is not trusted either.
  std::filesystem::resize_file(path, 8);
  chmod(path.c_str(), 0666);
  p = seccomp_program("", default_caps(), dir);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(same(*p, *reference));
  // The blocking still holds through the cache.
  EXPECT_EQ(in_child(*p, [] { return unshare(CLONE_NEWNS) < 0 && errno == EPERM ? 0 : 1; }), 0);
}

TEST_F(CacheDir, PruneKeepsOnlyThisBuildsEntries) {
  ASSERT_TRUE(seccomp_program("", default_caps(), dir).ok());
  std::ofstream(dir + "/0123abcd-deadbeef") << "x";
  std::ofstream(dir + "/" + build_id_hex() + "-abc.tmp-XYZ123") << "x";
  prune_seccomp_cache(dir);
  auto left = entries();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].filename().string().find(".tmp-"), std::string::npos);
  EXPECT_EQ(left[0].filename().string().rfind(build_id_hex(), 0), 0u);
}

TEST(Seccomp, UnconfinedIsEmptyAndJsonComesFromTheFile) {
  auto u = seccomp_program("unconfined", default_caps(), "");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->empty());
  auto missing = seccomp_program("/nonexistent/profile.json", default_caps(), "");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().what().find("/nonexistent/profile.json"), std::string::npos);
}

// kiln run sends the program to the child over the go socket, after the child was cloned.
TEST(Seccomp, ProgramTravelsOverASocketWhole) {
  auto program = default_seccomp(default_caps())->compile().value();
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  ASSERT_TRUE(program.send(sv[0]));
  ASSERT_TRUE(SeccompProgram{}.send(sv[0]));  // unconfined: no instructions
  auto got = SeccompProgram::receive(sv[1]);
  ASSERT_TRUE(got);
  ASSERT_EQ(got->insns.size(), program.insns.size());
  EXPECT_EQ(std::memcmp(got->insns.data(), program.insns.data(), program.insns.size() * sizeof(sock_filter)), 0);
  auto none = SeccompProgram::receive(sv[1]);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  // A count over the kernel's limit, or a sender gone halfway, gives nothing to install.
  uint32_t huge = BPF_MAXINSNS + 1;
  ASSERT_EQ(write(sv[0], &huge, sizeof huge), static_cast<ssize_t>(sizeof huge));
  EXPECT_FALSE(SeccompProgram::receive(sv[1]));
  uint32_t two = 2;
  ASSERT_EQ(write(sv[0], &two, sizeof two), static_cast<ssize_t>(sizeof two));
  ASSERT_EQ(write(sv[0], program.insns.data(), sizeof(sock_filter)), static_cast<ssize_t>(sizeof(sock_filter)));
  close(sv[0]);
  EXPECT_FALSE(SeccompProgram::receive(sv[1]));
  close(sv[1]);
}

TEST(Signals, Names) {
  EXPECT_EQ(signal_from_name("SIGTERM"), 15);
  EXPECT_EQ(signal_from_name("kill"), 9);
  EXPECT_EQ(signal_from_name("2"), 2);
  EXPECT_EQ(signal_from_name("SIGNOPE"), -1);
  EXPECT_EQ(signal_from_name("999"), -1);
}

// kiln-runtime: an engine starts many containers with the same linux.seccomp, so the program is compiled once
// per profile and capabilities, in the --root's cache; a miss also drops the entries of other builds.
TEST_F(CacheDir, BundleProfilesAreCompiledOncePerProfileAndCaps) {
  std::string bundle = std::filesystem::path(dir).parent_path().string();
  std::filesystem::create_directories(bundle + "/rootfs");
  auto config = [&](const std::string& caps, const std::string& errno_ret) {
    std::string text = R"({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": ["true"], "cwd": "/",
        "capabilities": {"bounding": [)" +
                       caps + R"(]}}, "linux": {"namespaces": [{"type": "mount"}], "seccomp": {
        "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["unshare"], "action": "SCMP_ACT_ERRNO",
        "errnoRet": )" +
                       errno_ret + "}]}}}";
    auto c = parse_bundle_config(text, bundle);
    if (!c.ok()) ADD_FAILURE() << c.error().what();
    return c.ok() ? *c : BundleConfig{};
  };
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/0123abcd-deadbeef") << "x";  // another build's
  auto first = bundle_seccomp(config("\"CAP_KILL\"", "13"), "config.json", dir);
  ASSERT_TRUE(first.ok()) << first.error().what();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(in_child(**first, [] { return unshare(CLONE_NEWUTS) < 0 && errno == 13 ? 0 : 1; }), 0);
  auto files = entries();
  ASSERT_EQ(files.size(), 1u) << "the other build's entry is dropped, this one kept";
  EXPECT_EQ(files[0].filename().string().rfind(build_id_hex() + "-", 0), 0u);
  SeccompProgram planted;  // read back, not compiled: only the cache can supply this one
  planted.insns = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  {
    std::ofstream out(files[0], std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(planted.insns.data()), sizeof(struct sock_filter));
  }
  auto again = bundle_seccomp(config("\"CAP_KILL\"", "13"), "config.json", dir);
  ASSERT_TRUE(again.ok() && again->has_value());
  EXPECT_TRUE(same(**again, planted));
  // Another profile, or other capabilities, is another entry.
  ASSERT_TRUE(bundle_seccomp(config("\"CAP_KILL\"", "22"), "config.json", dir).ok());
  ASSERT_TRUE(bundle_seccomp(config("\"CAP_CHOWN\"", "13"), "config.json", dir).ok());
  EXPECT_EQ(entries().size(), 3u);
  // A profile that does not compile is an error, and nothing is kept for it.
  auto bad = parse_bundle_config(R"({"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"args": ["true"],
      "cwd": "/"}, "linux": {"namespaces": [{"type": "mount"}], "seccomp": {"defaultAction": "SCMP_ACT_NOPE"}}})",
                                 bundle);
  ASSERT_TRUE(bad.ok()) << bad.error().what();  // the action is checked where the profile is compiled
  EXPECT_FALSE(bundle_seccomp(*bad, "config.json", dir).ok());
  EXPECT_EQ(entries().size(), 3u);
}

}  // namespace
}  // namespace kiln::runtime
