#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The licence header of every source file: `// SPDX-License-Identifier: Apache-2.0` (or `# ...`) as
# its first line, or its second after a `#!` line.
#   deploy/spdx-headers.sh           add the header where it is missing
#   deploy/spdx-headers.sh --check   list the files without it; exit 1 if there are any (a ctest)
# Covers C/C++ sources and headers, CMake files and shell scripts (*.sh and the packaging's
# maintainer scripts); not build trees, node_modules or the fuzz corpora.
set -euo pipefail
cd "$(dirname "$0")/.."

readonly spdx='SPDX-License-Identifier: Apache-2.0'

candidates() {
  if [ -e .git ] && command -v git >/dev/null; then
    git ls-files
  else
    find . \( -path ./build -o -path ./out -o -name node_modules -o -name .git \) -prune \
      -o -type f -print | sed 's|^\./||'
  fi
}

# Prints "<comment leader> <path>" for each file that should carry the header.
sources() {
  candidates | grep -vE '(^|/)node_modules/|^tests/fuzz/corpus/|^build/|^out/' |
    while IFS= read -r f; do
      [ -f "$f" ] || continue
      case "$f" in
        *.cc | *.h | *.c) echo "// $f" ;;
        *.cmake | */CMakeLists.txt | CMakeLists.txt | *.sh) echo "# $f" ;;
        .ci/run | deploy/packaging/postinst | deploy/packaging/postrm | deploy/packaging/prerm)
          echo "# $f" ;;
      esac
    done
}

check=0
[ "${1:-}" = --check ] && check=1
missing=0
while IFS=' ' read -r leader f; do
  if head -n 2 "$f" | grep -qF "$spdx"; then
    continue
  fi
  if [ "$check" = 1 ]; then
    echo "missing the licence header: $f"
    missing=1
    continue
  fi
  tmp=$(mktemp)
  if head -n 1 "$f" | grep -q '^#!'; then
    { head -n 1 "$f"; echo "$leader $spdx"; tail -n +2 "$f"; } >"$tmp"
  else
    { echo "$leader $spdx"; cat "$f"; } >"$tmp"
  fi
  cat "$tmp" >"$f"  # keeps the file's mode
  rm -f "$tmp"
  echo "added: $f"
done < <(sources)
exit "$missing"
