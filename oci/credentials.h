// Registry credentials as podman and docker keep them: ${XDG_RUNTIME_DIR}/containers/auth.json (read and
// written), ~/.docker/config.json (read), including credsStore/credHelpers (docker-credential-NAME get).
#pragma once

#include <optional>
#include <string>

#include "common/error.h"

namespace kiln::oci {

struct Credentials {
  std::string username, password;
};

/// Where kiln login writes: $REGISTRY_AUTH_FILE, else ${XDG_RUNTIME_DIR}/containers/auth.json, else
/// /run/containers/<uid>/auth.json.
std::string auth_file();
/// Credentials for a registry host ("127.0.0.1:5000", "docker.io"), if any file or helper has them.
std::optional<Credentials> find_credentials(const std::string& host);
Status store_credentials(const std::string& host, const Credentials& c);
/// Remove a host's entry; not_found if there was none.
Status remove_credentials(const std::string& host);

std::string base64_encode(const std::string& in);
std::string base64_decode(const std::string& in);

}  // namespace kiln::oci
