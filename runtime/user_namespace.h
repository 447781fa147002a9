// Rootless kiln: the user namespace an ordinary user's kiln runs in, as root over the user's own ids.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "common/error.h"

namespace kiln::runtime {

/// A range of subordinate ids from /etc/subuid or /etc/subgid.
struct SubidRange {
  unsigned long start = 0;
  unsigned long count = 0;
};

/// The first range of `text` (the file's contents) for the user, by name or by numeric id.
std::optional<SubidRange> find_subid_range(const std::string& text, const std::string& user, unsigned long id);

/// For an ordinary user: move this process into a user namespace where it is root. The namespace of the user's
/// keeper process (run_dir/userns.pid) is joined when there is one; else a new one is made and a keeper started
/// for the next kilns. A new one maps, with ranges in /etc/subuid and /etc/subgid, container ids 1..65535 onto
/// them (newuidmap/newgidmap); without, the user's own id alone, to 0: then it returns true (note_single_id
/// says what that loses). Must be called while the process has one thread, and followed by an exec (see
/// cli/main.cpp). Root on the host: nothing to do (false).
Result<bool> enter_user_namespace(const std::string& run_dir);

/// Inside the namespace (after that exec): tell the keeper this kiln uses it, until kiln exits or execs.
void hold_user_namespace(const std::string& run_dir);

/// For an ordinary user's `kiln exec`: join the user namespace of a running container's process (made by the
/// kiln that started it; another kiln's namespace could not reach into the container), and be root there.
/// Nothing to do when kiln is root already. Must be called while the process has one thread.
Status join_user_namespace_of(pid_t pid);

/// Says once per run directory (a marker file in note_dir) that only the user's own id is mapped, and what
/// that loses.
void note_single_id(const std::string& note_dir);

}  // namespace kiln::runtime
