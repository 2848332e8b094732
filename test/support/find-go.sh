# Sourced by the scripts that build a Go tool for the tests: sets go_bin to the go command (on PATH,
# else /usr/local/go/bin/go), or exits saying what needed it. Usage: find_go "<what needs it>"
find_go() {
  go_bin="$(command -v go || true)"
  [[ -z "${go_bin}" && -x /usr/local/go/bin/go ]] && go_bin=/usr/local/go/bin/go
  if [[ -z "${go_bin}" ]]; then
    echo "$1: go is needed (not found on PATH or in /usr/local/go/bin)" >&2
    exit 1
  fi
}
