#!/usr/bin/env bash
# Fails when the chart changed without a bump of `version:` in its Chart.yaml. The chart as it is in
# the work tree (uncommitted and untracked files included) is compared with the chart at the last
# commit on the first-parent line of HEAD that changed `version:`; any difference means the chart
# changed after that version was set. A merge commit counts as one change (first parent), so a
# branch merged with a merge commit needs one bump; in a linear history the bump goes in, or after,
# the last commit that touches the chart. ci/ is left out: .helmignore keeps it out of the package.
# Skips, saying why, without git, outside a git work tree, or in a shallow clone that lacks the
# commit which set the version. Usage: check-version-bump.sh [chart directory]
set -euo pipefail
cd "$(dirname "$0")/../.."

chart="${1:-helm/fapi-revocation-gateway}"
skip() { echo "chart version: skipped, $1"; exit 0; }

command -v git >/dev/null || skip "git is not installed"
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || skip "not a git work tree"
git rev-parse -q --verify HEAD >/dev/null || skip "no commit yet"

# `version:` at the top level of a Chart.yaml read from stdin (quotes stripped).
version_in() { sed -n -E 's/^version:[[:space:]]*["'\'']?([^"'\''[:space:]#]+).*/\1/p' | head -n 1; }
version_at() { git show "$1:${chart}/Chart.yaml" 2>/dev/null | version_in; }

current="$(version_in <"${chart}/Chart.yaml")"
[[ -n "${current}" ]] || { echo "chart version: no top-level version: in ${chart}/Chart.yaml" >&2; exit 1; }

if [[ "${current}" != "$(version_at HEAD)" ]]; then
  echo "chart version: ${current} (bumped in the work tree, from $(version_at HEAD || true))"
  exit 0
fi

# The newest first-parent commit whose Chart.yaml version differs from its first parent's.
since=""
for commit in $(git rev-list --first-parent HEAD -- "${chart}/Chart.yaml"); do
  if ! git rev-parse -q --verify "${commit}^1" >/dev/null; then
    [[ "$(git rev-parse --is-shallow-repository)" == true ]] \
      && skip "shallow clone: the commit that set version ${current} is not here (git fetch --unshallow)"
    since="${commit}" # the root commit created the chart
    break
  fi
  if [[ "$(version_at "${commit}")" != "$(version_at "${commit}^1")" ]]; then
    since="${commit}"
    break
  fi
done
[[ -n "${since}" ]] || skip "${chart}/Chart.yaml has no history (not committed yet?)"

packaged=("${chart}" ":(exclude)${chart}/ci")
changed="$( (git diff --name-only "${since}" -- "${packaged[@]}"; git ls-files --others --exclude-standard -- "${packaged[@]}") | sort -u)"
if [[ -n "${changed}" ]]; then
  cat >&2 <<EOF
chart version: ${chart} changed since $(git log -1 --format='%h (%s)' "${since}" | cut -c1-90)
set version ${current}, without a new version. Bump version: in ${chart}/Chart.yaml
(SemVer: patch for fixes and documentation, minor for new values or objects, major for breaking
changes) and regenerate the README. Changed:
$(sed 's/^/  /' <<<"${changed}")
EOF
  exit 1
fi
echo "chart version: ${current}, set in $(git log -1 --format=%h "${since}"); the chart has not changed since"
