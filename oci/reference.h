// Image references in the docker grammar: [host[:port]/]path[:tag][@sha256:…], normalized.
#pragma once

#include <string>

#include "common/error.h"

namespace kiln::oci {

/// A parsed, normalized reference: docker.io/library/debian:latest.
struct Reference {
  std::string domain;  ///< registry host[:port]; "docker.io" when none was given
  std::string path;    ///< repository path; "library/x" for official docker.io images
  std::string tag;     ///< empty only when a digest is given without a tag
  std::string digest;  ///< "sha256:…" or empty

  /// Parse and normalize (adds docker.io, library/ and :latest as docker does).
  static Result<Reference> parse(const std::string& text);
  /// domain/path
  std::string repository() const { return domain + "/" + path; }
  /// The repository as docker shows it: without "docker.io/" and "library/" (web, user/app, localhost/x).
  std::string familiar_repository() const;
  /// The whole reference as docker shows it: web:1, user/app:2@sha256:….
  std::string familiar() const;
  /// The full normalized form: domain/path[:tag][@digest].
  std::string str() const;
};

/// True if text could only be an image ID or digest prefix rather than a name (12-64 hex, or sha256:…).
bool looks_like_id(const std::string& text);

/// Whether the first component of a name is a registry host (it has a '.' or a ':', or is localhost), as
/// docker reads "host/path" against "user/path".
bool is_domain(const std::string& first);

}  // namespace kiln::oci
