// Errors and Result<T>: the one way kiln reports failure, with errno and context.
#pragma once

#include <cerrno>
#include <string>
#include <utility>
#include <variant>

namespace kiln {

/// Broad classes of failure; the CLI maps them to exit codes.
enum class ErrorCode {
  generic,
  invalid_argument,  ///< bad user input: flag, reference, Buildfile
  not_found,         ///< image, blob, file or tag does not exist
  corrupt,           ///< bytes do not match a digest, malformed archive or JSON
  unsupported,       ///< a media type or feature kiln does not handle
  unsafe,            ///< input tried to escape a root (path traversal, symlink)
  io,                ///< a system call failed
  conflict,          ///< something already exists or is in use
  cancelled,         ///< the user interrupted it (Ctrl-C, SIGTERM): exit 130
};

/// A failure: what went wrong, the errno if a system call failed, and the context it travelled through.
struct Error {
  ErrorCode code = ErrorCode::generic;
  int sys_errno = 0;
  std::string message;

  /// Prefix the message with where it happened ("importing rootfs.tar: ...").
  Error& context(const std::string& where) {
    message = where + ": " + message;
    return *this;
  }
  /// The one line a user sees.
  std::string what() const;
};

Error make_error(ErrorCode code, std::string message);
/// An io error carrying errno and its strerror text.
Error sys_error(std::string message, int err = errno);

/// A value or an Error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : m_v(std::in_place_index<0>, std::move(value)) {}
  Result(Error err) : m_v(std::in_place_index<1>, std::move(err)) {}
  bool ok() const { return m_v.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(m_v); }
  T&& value() && { return std::get<0>(std::move(m_v)); }
  const T& value() const& { return std::get<0>(m_v); }
  T& operator*() & { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Error& error() & { return std::get<1>(m_v); }
  Error&& error() && { return std::get<1>(std::move(m_v)); }
  const Error& error() const& { return std::get<1>(m_v); }

 private:
  std::variant<T, Error> m_v;
};

struct Unit {};
/// Result of an operation with no value.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error err) : m_err(std::move(err)), m_ok(false) {}
  bool ok() const { return m_ok; }
  explicit operator bool() const { return ok(); }
  void value() const {}
  Error& error() & { return m_err; }
  Error&& error() && { return std::move(m_err); }
  const Error& error() const& { return m_err; }

 private:
  Error m_err;
  bool m_ok = true;
};

using Status = Result<void>;

}  // namespace kiln

/// Evaluate a Result; on error return it from the enclosing function, else yield the value.
#define TRY(expr)                                         \
  ({                                                      \
    auto _kiln_r = (expr);                                \
    if (!_kiln_r.ok()) return std::move(_kiln_r).error(); \
    std::move(_kiln_r).value();                           \
  })

/// Like TRY, adding context to the error on the way up.
#define TRY_CTX(expr, ctx)                                             \
  ({                                                                   \
    auto _kiln_r = (expr);                                             \
    if (!_kiln_r.ok()) return std::move(_kiln_r).error().context(ctx); \
    std::move(_kiln_r).value();                                        \
  })
