// Tests for common/fd: owned fds, whole-file I/O, recursive directory helpers, passing fds over a socket.
#include "common/fd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/support/temp_dir.h"

namespace kiln {
namespace {

TEST(Fd, ReadWriteRoundTrip) {
  test::TempDir t;
  auto fd = open_fd(t / "f", O_WRONLY | O_CREAT, 0644);
  ASSERT_TRUE(fd.ok());
  ASSERT_TRUE(write_all(fd->get(), "hello").ok());
  fd->reset();
  EXPECT_EQ(*read_file(t / "f"), "hello");
  auto big = read_file(t / "f", 3);
  EXPECT_FALSE(big.ok());
}

TEST(Fd, ReadsWholeFilesOfEverySize) {
  test::TempDir t;
  for (size_t n : {size_t{0}, size_t{1}, size_t{4095}, size_t{4096}, size_t{200000}}) {
    std::string text(n, 'x');
    for (size_t i = 0; i < n; ++i) text[i] = static_cast<char>('a' + i % 26);
    test::write_text(t / "f", text);
    auto r = read_file(t / "f");
    ASSERT_TRUE(r.ok()) << n;
    EXPECT_EQ(*r, text) << n;
  }
  EXPECT_FALSE(read_file(t / "f", 199999).ok());
  EXPECT_TRUE(read_file(t / "f", 200000).ok());
}

TEST(Fd, ReadsPipesOfUnknownSize) {
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  std::string text(10000, 'q');
  text[9999] = 'z';
  ASSERT_TRUE(write_all(p[1], text).ok());  // fits the pipe's 64 KiB buffer
  ::close(p[1]);
  auto r = read_fd(p[0]);
  ::close(p[0]);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, text);
}

TEST(Fd, ReadsProcFilesThatReportNoSize) {
  auto r = read_file("/proc/self/status");
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->find("Name:"), std::string::npos);
  EXPECT_EQ(r->back(), '\n');
}

TEST(Fd, MissingFileIsNotFound) {
  test::TempDir t;
  auto r = read_file(t / "nope");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
}

TEST(Fd, RemoveTreeDoesNotFollowSymlinks) {
  test::TempDir outside, t;
  test::write_text(outside / "keep", "x");
  ASSERT_TRUE(make_dirs(t / "a/b/c").ok());
  test::write_text(t / "a/b/c/file", "y");
  ASSERT_EQ(::symlink(outside.path().c_str(), (t / "a/link").c_str()), 0);
  ASSERT_TRUE(remove_tree(t / "a").ok());
  EXPECT_FALSE(path_exists(t / "a"));
  EXPECT_TRUE(path_exists(outside / "keep"));
  EXPECT_TRUE(remove_tree(t / "a").ok());  // missing is fine
}

TEST(Fd, MakeDirsRefusesFileInTheWay) {
  test::TempDir t;
  test::write_text(t / "f", "x");
  EXPECT_FALSE(make_dirs(t / "f").ok());
  EXPECT_TRUE(make_dirs(t / "d/e").ok());
  EXPECT_TRUE(make_dirs(t / "d/e").ok());
}

TEST(Fd, SendAndReceiveAByteWithAndWithoutAnFd) {
  test::TempDir t;
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd a(sv[0]), b(sv[1]);
  auto file = open_fd(t / "f", O_WRONLY | O_CREAT, 0644);
  ASSERT_TRUE(file.ok());
  ASSERT_EQ(send_byte(a.get(), 'n', file->get()), 0);
  ASSERT_EQ(send_byte(a.get(), 'g'), 0);
  char c = 0;
  int fd = -2;
  ASSERT_TRUE(receive_byte(b.get(), &c, &fd));
  EXPECT_EQ(c, 'n');
  ASSERT_GE(fd, 0);
  UniqueFd got(fd);
  struct stat sent {
  }, received{};
  fstat(file->get(), &sent);
  fstat(got.get(), &received);
  EXPECT_EQ(sent.st_ino, received.st_ino) << "the very file crossed the socket";
  EXPECT_TRUE(fcntl(got.get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_TRUE(receive_byte(b.get(), &c, &fd));
  EXPECT_EQ(c, 'g');
  EXPECT_EQ(fd, -1) << "a byte alone brings no fd";
  a.reset();
  EXPECT_FALSE(receive_byte(b.get(), &c, &fd)) << "EOF once the sender is gone";
}

}  // namespace
}  // namespace kiln
