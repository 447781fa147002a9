#!/usr/bin/env bash
# Shell completion (bash, zsh, fish) and man pages, made from the parser's own command definitions, and the
# install step that puts them with the programs (cmake --install).
source "$(dirname "$0")/lib.sh"

export PATH=$(dirname "$KILN"):$PATH  # the scripts ask `kiln` for image names, as a user's shell would
make_busybox_rootfs "$WORK/rootfs"
tar -C "$WORK/rootfs" -cf "$WORK/rootfs.tar" .
kiln import "$WORK/rootfs.tar" localhost/compl:1 >/dev/null

# bash: the script loads, and completes commands, aliases, flags, flag values and image names.
bash -c 'source <(kiln completion bash) && complete -p kiln' | has_line -x 'complete -F _kiln kiln' \
  || fail "the bash completion does not register"
source <("$KILN" completion bash)
comp() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=(); _kiln; echo "${COMPREPLY[*]}"; }
assert_eq "$(comp kiln bui)" "builder build" "commands"
assert_eq "$(comp kiln image l)" "ls list load" "an alias group's commands"
assert_eq "$(comp kiln build --ta)" "--tag --target" "build's flags"
assert_eq "$(comp kiln run --read)" "--read-only --read-only-tmpfs" "run's flags (registered only on demand when run runs)"
assert_eq "$(comp kiln --log-level d)" "debug" "--log-level's values"
assert_eq "$(comp kiln --root /x image rm localhost/co)" "localhost/compl:1" "image names after a global flag and an alias"
assert_eq "$(comp kiln run localhost/co)" "localhost/compl:1" "run's image"
mkdir -p "$WORK/files"; touch "$WORK/files/Buildfile.one"
assert_eq "$(comp kiln build -f "$WORK/files/Bu")" "$WORK/files/Buildfile.one" "-f takes a file"
assert_eq "$(comp kiln images -f dang)" "" "images -f is a filter, not a file"

# zsh: the script parses and defines its function.
kiln completion zsh > "$WORK/_kiln"
zsh -n "$WORK/_kiln" || fail "the zsh completion does not parse"
assert_eq "$(zsh -fc "autoload -U compinit; compinit -u -d $WORK/zcompdump; source $WORK/_kiln; whence -w _kiln")" \
  "_kiln: function" "the zsh completion's function"

# fish: the script parses and completes (fish's own completion engine, non-interactively).
kiln completion fish > "$WORK/kiln.fish"
fish -n "$WORK/kiln.fish" || fail "the fish completion does not parse"
fishcomp() { HOME=$WORK fish --no-config -c "source $WORK/kiln.fish; complete -C '$1'" | cut -f1 | tr '\n' ' ' | sed 's/ $//'; }
assert_eq "$(fishcomp 'kiln bui')" "build builder" "fish: commands"
assert_eq "$(fishcomp 'kiln system ')" "df info prune" "fish: an alias group's commands"
assert_eq "$(fishcomp 'kiln build --ta')" "--tag --target" "fish: flags"
assert_eq "$(fishcomp 'kiln rmi localhost/co')" "localhost/compl:1" "fish: image names"

expect_fail 'no completion for shell "tcsh": use bash, zsh or fish' kiln completion tcsh

# Man pages: one per command and alias, rendered by groff without a warning, listing the flags the parser has.
kiln generate-docs "$WORK/docs"
for c in build run images pull push ps exec history completion system-df image-ls container-inspect; do
  [ -s "$WORK/docs/man1/kiln-$c.1" ] || fail "no man page for $c"
done
for page in "$WORK"/docs/man1/*.1; do
  grep -q '^\.so ' "$page" && continue
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1) || fail "groff failed on $page"
  [ -z "$warnings" ] || fail "groff warns on $(basename "$page"): $warnings"
done
groff -man -Tutf8 "$WORK/docs/man1/kiln-build.1" 2>/dev/null | sed 's/.\x08//g' > "$WORK/build.txt"
for flag in --tag --file --build-arg --no-cache --secret; do
  grep -q -- "$flag" "$WORK/build.txt" || fail "kiln-build(1) lacks $flag"
done
grep -q "kiln image ls" <(groff -man -Tutf8 "$WORK/docs/man1/kiln.1" 2>/dev/null | sed 's/.\x08//g') \
  || fail "kiln(1) does not list the aliases"

# The install step (cmake --install, as make install): programs, man pages, completions where shells look.
build_dir=$(dirname "$KILN")
if [ -f "$build_dir/cmake_install.cmake" ]; then
  cmake --install "$build_dir" --prefix "$WORK/prefix" > /dev/null
  for f in bin/kiln bin/kiln-runtime share/man/man1/kiln.1 share/man/man1/kiln-run.1 \
    share/bash-completion/completions/kiln share/zsh/vendor-completions/_kiln \
    share/fish/vendor_completions.d/kiln.fish; do
    [ -e "$WORK/prefix/$f" ] || fail "cmake --install did not install $f"
  done
  assert_eq "$("$WORK/prefix/bin/kiln" --version)" "$(kiln --version)" "the installed kiln"
else
  echo "note: $build_dir is no cmake build directory; the install step is not tried"
fi
