#!/usr/bin/env bash
# Writes api/<crate>.txt, the public API of every published crate (cargo-public-api on the
# nightly rustdoc JSON), so that an API change shows in review. With --check, fails when
# a listing differs from the committed one.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p api
for crate in brainwire brainwire-core brainwire-close brainwire-sign brainwire-v1 brainwire-v2 brainwire-auth brainwire-run brainwire-channel brainwire-tokio; do
  features=()
  case "$crate" in brainwire | brainwire-tokio) features=(--all-features) ;; esac
  cargo public-api --simplified -p "$crate" "${features[@]}" > "api/$crate.txt" 2>/dev/null
done
if [ "${1:-}" = --check ]; then
  if ! git diff --exit-code -- api/; then
    echo "the public API changed: run scripts/public-api.sh, commit api/, add a CHANGELOG line" >&2
    exit 1
  fi
fi
echo "public API listings in api/ ($(cat api/*.txt | wc -l) items)"
