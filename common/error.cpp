// Errors and Result<T>: construction helpers.
#include "common/error.h"

#include <cstring>

namespace kiln {

std::string Error::what() const { return message; }

Error make_error(ErrorCode code, std::string message) { return Error{code, 0, std::move(message)}; }

Error sys_error(std::string message, int err) {
  Error e{ErrorCode::io, err, std::move(message)};
  e.message += ": ";
  e.message += std::strerror(err);
  if (err == ENOENT) e.code = ErrorCode::not_found;
  if (err == EEXIST) e.code = ErrorCode::conflict;
  return e;
}

}  // namespace kiln
