#!/usr/bin/env bash
# Writes docs/dependencies.md: the normal dependency tree of every published crate, and
# fails if a crate that must stay light pulls in an HMAC, SHA-2 or base64 stack.
set -euo pipefail
cd "$(dirname "$0")/.."
out=docs/dependencies.md
{
  echo "# Dependency trees"
  echo
  echo "What each crate pulls in (\`cargo tree -e normal --prefix depth\`), regenerated and"
  echo "compared by \`.ci/run\` (\`bash scripts/dependency-trees.sh\`). Only \`brainwire-sign\`,"
  echo "\`brainwire-v2\` (and the facade's \`v2\` feature) may pull in hmac, sha2 or base64."
  for crate in brainwire-core brainwire-close brainwire-sign brainwire-v1 brainwire-v2 brainwire-auth brainwire-run brainwire-channel brainwire-tokio; do
    echo
    echo "## $crate"
    echo
    echo '```text'
    cargo tree -q -p "$crate" -e normal --prefix depth --depth 2 | sed 's/ (\/[^)]*)//'
    echo '```'
  done
  echo
  echo "## brainwire (facade), default features off"
  echo
  echo '```text'
  cargo tree -q -p brainwire -e normal --no-default-features --prefix depth --depth 1 | sed 's/ (\/[^)]*)//'
  echo '```'
} > "$out"
for crate in brainwire-core brainwire-close brainwire-v1 brainwire-auth brainwire-run brainwire-channel; do
  if cargo tree -q -p "$crate" -e normal | grep -Eq '^[│├└ ─]*(hmac|sha2|base64) '; then
    echo "$crate pulls in a crypto or base64 crate it must not use" >&2
    exit 1
  fi
done
if cargo tree -q -p brainwire -e normal --no-default-features | grep -Eq '(hmac|sha2|base64) '; then
  echo "brainwire without default features pulls in hmac, sha2 or base64" >&2
  exit 1
fi
echo "wrote $out; light crates pull in no hmac, sha2 or base64"
