# Sourced by the scripts that build a Go tool for the tests. find_go sets go_bin to the go command (on PATH,
# else /usr/local/go/bin/go), or exits saying what needed it. Usage: find_go "<what needs it>"
find_go() {
  go_bin="$(command -v go || true)"
  [[ -z "${go_bin}" && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
  if [[ -z "${go_bin}" ]]; then
    echo "$1: go is needed (not found on PATH or in /usr/local/go/bin)" >&2
    exit 1
  fi
}

# Builds a tool that `go install <pkg>@<version>` cannot (its go.mod has replace directives, or the
# build needs a main of our own): in the throwaway main module folder $1 (its go.mod and sources
# written by the caller), resolves the module graph from the proxy, then runs a static
# `go build -trimpath` with the remaining arguments (-tags, -ldflags, -o, packages). A graph that
# `tidy -e` leaves incomplete fails in the build, which names the package.
go_build_throwaway() {
  local src="$1"
  shift
  (
    cd "${src}"
    GOFLAGS="-buildvcs=false -mod=mod" "${go_bin}" mod tidy -e >&2 || true
    CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=mod" "${go_bin}" build -trimpath "$@" >&2
  )
}
