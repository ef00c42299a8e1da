#!/bin/sh
# Packs, installs and starts Freeway the way its npm package is meant to be used. The Dockerfile is a
# thin wrapper around this script, and test/e2e/install.test.ts runs every step of it for real, so what
# the image does is what the suite checks (only the base image and Docker itself go untested).
#
#   install-and-start.sh pack SOURCE_DIR DEST_DIR   npm pack the checkout SOURCE_DIR into DEST_DIR (prints the tarball's
#                                                   path); installs its dependencies first when it has none
#   install-and-start.sh install TARBALL            install the packed package, production dependencies only, into
#                                                   $FREEWAY_PREFIX (default /usr/local): $FREEWAY_PREFIX/bin/freeway
#   install-and-start.sh start [ARGS...]            exec `freeway serve ARGS...` from $FREEWAY_PREFIX, in the current
#                                                   directory (its ./data holds the SQLite database unless DATABASE_URL),
#                                                   listening on $FREEWAY_HOST (default 0.0.0.0: a container's port) and
#                                                   $PORT (default 8080)
#
# npm's own settings pass through the environment (npm_config_prefer_offline=true, npm_config_registry=...).
# Node.js 24 must be on PATH: the package runs on the `node` it finds (the image's base provides it).
set -eu

prefix=${FREEWAY_PREFIX:-/usr/local}

need_node_24() {
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -lt 24 ]; then
    echo "install-and-start: Freeway needs Node.js 24 or newer on PATH (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
  fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  pack)
    [ $# -eq 2 ] || { echo "usage: $0 pack SOURCE_DIR DEST_DIR" >&2; exit 2; }
    need_node_24
    src=$1
    dest=$(mkdir -p "$2" && cd "$2" && pwd)
    cd "$src"
    # A checkout without node_modules (a container build) gets the locked dev dependencies the pack
    # step's build may use; install scripts are not needed to build (and would fetch a Node binary).
    [ -d node_modules ] || npm ci --ignore-scripts --no-audit --no-fund >&2
    name=$(npm pack --pack-destination "$dest" | tail -n 1)
    echo "$dest/$name"
    ;;
  install)
    [ $# -eq 1 ] || { echo "usage: $0 install TARBALL" >&2; exit 2; }
    need_node_24
    npm install --global --prefix "$prefix" --omit=dev --no-audit --no-fund "$1" >&2
    "$prefix/bin/freeway" --help >/dev/null
    echo "installed $prefix/bin/freeway" >&2
    ;;
  start)
    need_node_24
    export PORT="${PORT:-8080}"
    exec "$prefix/bin/freeway" serve --host "${FREEWAY_HOST:-0.0.0.0}" "$@"
    ;;
  *)
    echo "usage: $0 pack SOURCE_DIR DEST_DIR | install TARBALL | start [ARGS...]" >&2
    exit 2
    ;;
esac
