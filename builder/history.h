// The image history a build writes: one entry per instruction, worded as BuildKit's Dockerfile frontend words
// it (docker 20.10's, which made the conformance goldens), so `docker history` of a kiln image reads as it would
// for the same Buildfile built by docker. BuildKit prints many values with Go's fmt verbs (%q, %v of slices and
// maps, time.Duration), so the helpers below write those forms.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oci/image.h"

namespace kiln::builder {

/// The comment BuildKit puts on every entry it writes.
inline constexpr const char* kHistoryComment = "buildkit.dockerfile.v0";

/// Go's %q of a string: double-quoted, with \" \\ \n \t …, \xNN for control and invalid bytes, and \uNNNN for
/// the non-printable characters Go escapes (spaces other than ' ', format and separator characters).
std::string go_quote(const std::string& s);
/// Go's %q of a []string: ["a" "b"].
std::string go_quote_list(const std::vector<std::string>& v);
/// Go's %v of a []string: [a b].
std::string go_list(const std::vector<std::string>& v);
/// Go's time.Duration String(): 0s, 500ms, 1.5s, 1m30s, 1h0m0s.
std::string go_duration(int64_t ns);
/// Go's %q of an int: a quoted character literal ('\x00', 'a').
std::string go_quote_rune(int64_t r);

/// RUN's entry: "RUN |N A=1 B=2 /bin/sh -c cmd # buildkit", each ARG the stage declared (in order) with its value
/// in the step's environment ("" when it has none there).
std::string run_history(const std::vector<std::string>& argv, const std::vector<std::string>& declared_args,
                        const std::vector<std::string>& env);
/// COPY's and ADD's: "COPY src… dest # buildkit". docker 20.10 leaves the flags out; --parents, which it
/// predates, is written as later BuildKit writes it, and so are heredocs ("<<NAME", after the paths).
std::string copy_history(const std::string& keyword, bool parents, const std::vector<std::string>& sources,
                         const std::string& dest);
/// HEALTHCHECK's: Go's %q of docker 20.10's health config, "&{["CMD-SHELL" "true"] "5s" "0s" "0s" '\x00'}".
std::string healthcheck_history(const oci::Healthcheck& h);
/// EXPOSE's: Go's %v of the port set this instruction names, "map[53/udp:{} 80/tcp:{}]" (keys sorted).
std::string expose_history(const std::vector<std::string>& ports);

}  // namespace kiln::builder
