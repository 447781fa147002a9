// kiln pull, push, login, logout.
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cli/command.h"
#include "oci/distribution.h"

namespace kiln::cli {

namespace {

struct RegistryFlags {
  std::string tls_verify;  ///< "", "true", "false"
  std::string cert_dir;
  bool quiet = false;
  int jobs = 4;
};

Result<oci::RegistryOptions> registry_options(const RegistryFlags& f) {
  oci::RegistryOptions o;
  if (f.tls_verify == "false")
    o.tls_verify = false;
  else if (f.tls_verify == "true")
    o.tls_verify = true;
  else if (!f.tls_verify.empty())
    return make_error(ErrorCode::invalid_argument, "--tls-verify takes true or false");
  o.cert_dir = f.cert_dir;
  return o;
}

void add_registry_flags(CLI::App* cmd, RegistryFlags& f) {
  cmd->add_option("--tls-verify", f.tls_verify, "verify TLS (default true; false also allows plain HTTP)");
  cmd->add_option("--cert-dir", f.cert_dir,
                  "directory of extra CA certificates (default /etc/containers/certs.d/HOST)");
  cmd->add_flag("-q,--quiet", f.quiet, "no progress output");
  if (cmd->get_name() != "login") cmd->add_option("--jobs", f.jobs, "blobs transferred at once (default 4)");
}

Status pull_cmd(Context& ctx, const std::string& name, const RegistryFlags& f, const std::string& platform,
                bool all_platforms, bool unpack) {
  TRY(oci::Reference::parse(name));  // a bad name is refused before the store is opened
  auto store = TRY(ctx.store());
  oci::ImageStore images(store);
  oci::TransferOptions o;
  o.registry = TRY(registry_options(f));
  o.quiet = f.quiet;
  o.progress = oci::Progress::mode_for(2);
  o.jobs = f.jobs;
  if (!platform.empty()) o.platform = platform;
  o.all_platforms = all_platforms;
  o.unpack = unpack && !all_platforms;
  std::cout << TRY(oci::pull_named(images, name, o, std::cerr)) << "\n";
  return {};
}

Status push_cmd(Context& ctx, const std::string& name, const std::string& dest_text, const RegistryFlags& f,
                const std::string& digestfile) {
  auto store = TRY(ctx.store());
  oci::ImageStore images(store);
  auto img = TRY(images.resolve(name));
  auto dest = TRY(oci::Reference::parse(dest_text.empty() ? name : dest_text));
  oci::TransferOptions o;
  o.registry = TRY(registry_options(f));
  o.quiet = f.quiet;
  o.progress = oci::Progress::mode_for(2);
  o.jobs = f.jobs;
  auto digest = TRY(oci::push_image(images, img, dest, o, std::cerr));
  if (!digestfile.empty()) {
    UniqueFd fd = TRY(open_fd(digestfile, O_WRONLY | O_CREAT | O_TRUNC, 0644));
    TRY(write_all(fd.get(), digest));
  }
  return {};
}

std::string registry_host(const std::string& arg) {
  std::string h = arg;
  if (h.rfind("https://", 0) == 0) h = h.substr(8);
  if (h.rfind("http://", 0) == 0) h = h.substr(7);
  return h.substr(0, h.find('/'));
}

Status login_cmd(const std::string& server, std::string user, const bool password_stdin, std::string password,
                 const RegistryFlags& f) {
  std::string host = registry_host(server);
  if (host.empty())
    return make_error(ErrorCode::invalid_argument, "kiln login needs a registry, e.g. kiln login 127.0.0.1:5000");
  if (user.empty()) {
    std::cerr << "Username: ";
    std::getline(std::cin, user);
  }
  if (password_stdin) {
    std::getline(std::cin, password);
  } else if (password.empty()) {
    std::cerr << "Password: ";
    struct termios t;
    bool tty = ::tcgetattr(0, &t) == 0;
    if (tty) {
      struct termios quiet = t;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(0, TCSANOW, &quiet);
    }
    std::getline(std::cin, password);
    if (tty) ::tcsetattr(0, TCSANOW, &t);
    std::cerr << "\n";
  }
  while (!password.empty() && (password.back() == '\r' || password.back() == '\n')) password.pop_back();
  oci::RegistryOptions o = TRY(registry_options(f));
  o.credentials = oci::Credentials{user, password};
  oci::Registry reg(host, o);
  TRY(reg.ping());
  TRY(oci::store_credentials(host, *o.credentials));
  std::cout << "Login Succeeded!\n";
  return {};
}

}  // namespace

void register_registry_commands(CLI::App& app, Context& ctx) {
  auto pf = std::make_shared<RegistryFlags>();
  auto pname = std::make_shared<std::string>(), platform = std::make_shared<std::string>();
  auto* pull = app.add_subcommand("pull", "Pull an image from a registry into the store");
  pull->add_option("IMAGE", *pname, "reference, e.g. 127.0.0.1:5000/app:1")->required();
  pull->add_option("--platform", *platform, "os/arch to pick from an index (default linux/amd64)");
  add_registry_flags(pull, *pf);
  auto all = std::make_shared<bool>(false);
  pull->add_flag("--all-platforms", *all,
                 "keep every platform of an index (linux/amd64 is what runs), so a push sends the whole index");
  auto unpack = std::make_shared<bool>(false);
  // Hidden: how a static kiln's run asks its dynamic half to unpack the layers as they arrive.
  pull->add_flag("--unpack", *unpack, "unpack the layers while they download")->group("");
  pull->callback([&ctx, pf, pname, platform, all, unpack] {
    ctx.action = [&ctx, pf, pname, platform, all, unpack] {
      return pull_cmd(ctx, *pname, *pf, *platform, *all, *unpack);
    };
  });

  auto sf = std::make_shared<RegistryFlags>();
  auto sname = std::make_shared<std::string>(), sdest = std::make_shared<std::string>(),
       dfile = std::make_shared<std::string>();
  auto* push = app.add_subcommand("push", "Push an image from the store to a registry");
  push->add_option("IMAGE", *sname, "image in the store")->required();
  push->add_option("DESTINATION", *sdest, "reference to push to (default: IMAGE)");
  push->add_option("--digestfile", *dfile, "write the pushed manifest digest to this file");
  add_registry_flags(push, *sf);
  push->callback([&ctx, sf, sname, sdest, dfile] {
    ctx.action = [&ctx, sf, sname, sdest, dfile] { return push_cmd(ctx, *sname, *sdest, *sf, *dfile); };
  });

  auto lf = std::make_shared<RegistryFlags>();
  auto server = std::make_shared<std::string>(), user = std::make_shared<std::string>(),
       pass = std::make_shared<std::string>();
  auto pstdin = std::make_shared<bool>(false);
  auto* login = app.add_subcommand("login", "Log in to a registry (credentials go to auth.json, as podman keeps them)");
  login->add_option("REGISTRY", *server, "registry host[:port]")->required();
  login->add_option("-u,--username", *user, "username");
  login->add_option("-p,--password", *pass, "password (prefer --password-stdin)");
  login->add_flag("--password-stdin", *pstdin, "read the password from standard input");
  add_registry_flags(login, *lf);
  login->callback([&ctx, lf, server, user, pass, pstdin] {
    ctx.action = [lf, server, user, pass, pstdin] { return login_cmd(*server, *user, *pstdin, *pass, *lf); };
  });

  auto lserver = std::make_shared<std::string>();
  auto* logout = app.add_subcommand("logout", "Forget the credentials of a registry");
  logout->add_option("REGISTRY", *lserver, "registry host[:port]")->required();
  logout->callback([&ctx, lserver] {
    ctx.action = [lserver]() -> Status {
      TRY(oci::remove_credentials(registry_host(*lserver)));
      std::cout << "Removed login credentials for " << registry_host(*lserver) << "\n";
      return {};
    };
  });
}

}  // namespace kiln::cli
