#!/usr/bin/env bash
# Creates .venv with the v2 reference (z4j-core 1.13.0) that the interop tests run.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# constraints.txt pins every transitive dependency too, as a lock file would.
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/reference/requirements.txt \
  -c tests/reference/constraints.txt
.venv/bin/python -c "import z4j_core.transport.framing"
echo "reference ready: .venv/bin/python (z4j-core $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("z4j-core"))'))"
