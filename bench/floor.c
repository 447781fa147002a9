// bench/floor.c: the least a runtime can do for kiln's isolation of `run IMAGE /bin/true`, as a yardstick for
// bench/run. No CLI, no image lookup, no state, no cgroup or device filter, no error reporting: one clone with
// kiln's namespaces (net included), then in the child kiln's mount sequence (scratch tmpfs with the top layer,
// read-only overlay, /proc, /dev with its nodes, devpts, shm, mqueue, docker's /proc masks and read-only
// paths, pivot_root and detach of the old root, sysfs and its mask), the bounding set cut to docker's
// default, no_new_privs, kiln's compiled seccomp program, exec.
//
// usage: floor SECCOMP_PROGRAM LAYER_DIR SCRATCH_DIR   (as root; SCRATCH_DIR an empty directory)
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(x)   \
  do {             \
    if ((x) < 0) { \
      perror(#x);  \
      _exit(125);  \
    }              \
  } while (0)

static char scratch[2048];

static const char* in_scratch(const char* rel) {
  static char buf[8][4096];
  static int next;
  char* b = buf[next++ % 8];
  snprintf(b, sizeof buf[0], "%s/%s", scratch, rel);
  return b;
}

static void write_file(const char* path, const char* text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  CHECK(fd);
  CHECK(write(fd, text, strlen(text)));
  close(fd);
}

static void child(const char* layer, struct sock_fprog* prog) {
  CHECK(sethostname("floor", 5));
  CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
  CHECK(mount("tmpfs", scratch, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700,size=4m"));
  const char* dirs[] = {"top", "top/proc", "top/sys", "top/dev", "top/tmp", "top/etc", "rootfs"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; ++i) CHECK(mkdir(in_scratch(dirs[i]), 0755));
  write_file(in_scratch("top/etc/hosts"), "127.0.0.1\tlocalhost\n");
  write_file(in_scratch("top/etc/hostname"), "floor\n");
  write_file(in_scratch("top/etc/resolv.conf"), "");
  int fs = (int)syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC);
  CHECK(fs);
  CHECK(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", in_scratch("top"), 0));
  CHECK(syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, "lowerdir+", layer, 0));
  CHECK(syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0));
  int mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
  CHECK(mnt);
  CHECK(syscall(SYS_move_mount, mnt, "", AT_FDCWD, in_scratch("rootfs"), MOVE_MOUNT_F_EMPTY_PATH));
  CHECK(chdir(in_scratch("rootfs")));
  CHECK(mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
  CHECK(mount("tmpfs", "dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"));
  struct {
    const char* path;
    int major, minor;
  } nodes[] = {{"dev/null", 1, 3},   {"dev/zero", 1, 5},    {"dev/full", 1, 7},
               {"dev/random", 1, 8}, {"dev/urandom", 1, 9}, {"dev/tty", 5, 0}};
  for (size_t i = 0; i < sizeof nodes / sizeof *nodes; ++i) {
    CHECK(mknod(nodes[i].path, S_IFCHR | 0666, makedev(nodes[i].major, nodes[i].minor)));
    CHECK(chmod(nodes[i].path, 0666));
  }
  const char* devdirs[] = {"dev/pts", "dev/shm", "dev/mqueue"};
  for (size_t i = 0; i < 3; ++i) CHECK(mkdir(devdirs[i], 0755));
  const char* links[][2] = {{"/proc/self/fd", "dev/fd"},       {"/proc/self/fd/0", "dev/stdin"},
                            {"/proc/self/fd/1", "dev/stdout"}, {"/proc/self/fd/2", "dev/stderr"},
                            {"pts/ptmx", "dev/ptmx"},          {"/proc/kcore", "dev/core"}};
  for (size_t i = 0; i < sizeof links / sizeof *links; ++i) CHECK(symlink(links[i][0], links[i][1]));
  CHECK(mount("devpts", "dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5"));
  CHECK(mount("shm", "dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k"));
  CHECK(mount("mqueue", "dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
  const char* masked_files[] = {"proc/kcore", "proc/keys", "proc/timer_list", "proc/sched_debug", "proc/latency_stats"};
  for (size_t i = 0; i < sizeof masked_files / sizeof *masked_files; ++i)
    mount("/dev/null", masked_files[i], NULL, MS_BIND, NULL);  // absent entries fail, as kiln skips them
  mount("tmpfs", "proc/acpi", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
  mount("tmpfs", "proc/scsi", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0");
  const char* readonly[] = {"proc/bus", "proc/fs", "proc/irq", "proc/sys", "proc/sysrq-trigger"};
  for (size_t i = 0; i < sizeof readonly / sizeof *readonly; ++i)
    if (mount(readonly[i], readonly[i], NULL, MS_BIND | MS_REC, NULL) == 0)
      CHECK(mount(NULL, readonly[i], NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL));
  CHECK(syscall(SYS_pivot_root, ".", "."));
  CHECK(umount2(".", MNT_DETACH));
  CHECK(chdir("/"));
  CHECK(mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL));
  CHECK(mount("tmpfs", "/sys/firmware", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0"));
  // docker's default capabilities stay in the bounding set; every other one goes.
  const int keep[] = {0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31};
  for (int cap = 0; cap <= 40; ++cap) {
    int kept = 0;
    for (size_t i = 0; i < sizeof keep / sizeof *keep; ++i) kept |= keep[i] == cap;
    if (!kept) prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
  }
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  CHECK(syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog));
  char* argv[] = {"/bin/true", NULL};
  execv(argv[0], argv);
  _exit(127);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s SECCOMP_PROGRAM LAYER_DIR SCRATCH_DIR\n", argv[0]);
    return 2;
  }
  static struct sock_filter filter[4096];
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  CHECK(fd);
  ssize_t n = read(fd, filter, sizeof filter);
  CHECK(n);
  close(fd);
  struct sock_fprog prog = {(unsigned short)(n / sizeof *filter), filter};
  snprintf(scratch, sizeof scratch, "%s", argv[3]);
  int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP | CLONE_NEWNET;
  pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  CHECK(pid);
  if (pid == 0) child(argv[2], &prog);
  int status;
  CHECK(waitpid(pid, &status, 0));
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
