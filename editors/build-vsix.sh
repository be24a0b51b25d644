#!/bin/sh
# Package the VS Code extension as editors/vscode/dist/sibdsl-VERSION.vsix, installable with
# `code --install-extension editors/vscode/dist/sibdsl-0.1.0.vsix` (or Extensions → … → Install from VSIX).
#
# Needs Node.js ≥ 18 and npm, which fetch vscode-languageclient (pinned in package-lock.json) and
# @vscode/vsce from the npm registry. Not part of the test suite: it needs the network.
set -eu
here=$(cd "$(dirname "$0")/vscode" && pwd)
cd "$here"
command -v npm >/dev/null 2>&1 || { echo "build-vsix.sh: npm is not installed (https://nodejs.org)" >&2; exit 2; }
# the extension's own dependencies, exactly as locked
npm ci --no-audit --no-fund --loglevel=error
version=$(node -p "require('./package.json').version")
mkdir -p dist
npx --yes @vscode/vsce@3.2.1 package --allow-missing-repository --out "dist/sibdsl-$version.vsix"
echo "built $here/dist/sibdsl-$version.vsix"
