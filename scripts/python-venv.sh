#!/usr/bin/env bash
# Usage: scripts/python-venv.sh <venv dir> <requirements file>
# Creates a Python virtual environment from Debian's python3 with the pinned packages of the
# requirements file, from PyPI. Idempotent: it is rebuilt only when the requirements file changed
# since the last install that completed, so a second run costs a file comparison.
set -euo pipefail
venv=$1
requirements=$2
stamp=$venv/.requirements
if [ -x "$venv/bin/python" ] && cmp -s "$requirements" "$stamp"; then exit 0; fi
echo "creating $venv from $requirements (pip, once)" >&2
rm -rf "$venv"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --retries 5 --timeout 60 -r "$requirements"
cp "$requirements" "$stamp"
