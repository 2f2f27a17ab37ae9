#!/usr/bin/env bash
# ctest entry point for the SDK tests: installs the pinned npm packages into tests/node/node_modules
# (from package-lock.json), then runs the scenarios against the given llmpool binary.
# Exit 77 (ctest SKIP_RETURN_CODE) only when node/npm or the packages are unavailable.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:?usage: run_node_tests.sh /path/to/llmpool}"
cd "$here"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "SKIP: node/npm not installed" >&2
  exit 77
fi
if [ ! -d node_modules/openai ] || [ ! -d node_modules/@anthropic-ai/sdk ] ||
   [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if ! timeout 300 npm ci --no-audit --no-fund --loglevel=error; then
    echo "SKIP: npm could not install the pinned SDK packages" >&2
    exit 77
  fi
fi
exec timeout 180 node --test-reporter=spec gateway_sdk_test.mjs "$binary"
