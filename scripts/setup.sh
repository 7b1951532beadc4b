#!/usr/bin/env bash
# Installs what durable-gateway needs to build, run and test, and nothing that is
# there already: Debian packages (compiler, CMake, the five C libraries, libxml2, zlib,
# clang-format, clang-14 with its sanitizer and libFuzzer runtimes for tests/fuzz, Node.js, the
# deploy validators) and the npm packages pinned in package-lock.json and tests/deploy/package-lock.json.
# Safe to run again; the run and test commands call it first.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

pkgs=(build-essential cmake pkg-config curl ca-certificates
      libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev libcjson-dev libssl-dev libxml2-dev zlib1g-dev libcriterion-dev
      clang-format clang-14 libclang-rt-14-dev
      yamllint docker-compose python3-yaml)  # the validators of tests/deploy (no Docker daemon needed)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm packages: reinstall only when the lockfile changed since the last install.
stamp="node_modules/.dg-lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
    echo "setup: installing npm packages from package-lock.json"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json "$stamp"
fi
# The deploy test's validators (kubernetes-models, dockerfile-utils), pinned in tests/deploy's own lockfile.
stamp="tests/deploy/node_modules/.dg-lock-stamp"
if [ ! -f "$stamp" ] || ! cmp -s tests/deploy/package-lock.json "$stamp"; then
    echo "setup: installing npm packages from tests/deploy/package-lock.json"
    npm ci --prefix tests/deploy --no-audit --no-fund --loglevel=error
    cp tests/deploy/package-lock.json "$stamp"
fi
