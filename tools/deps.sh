#!/usr/bin/env bash
# Installs the Debian packages named as package:probe pairs when a probe binary is missing.
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
missing=()
for pair in "$@"; do
  pkg=${pair%%:*} probe=${pair#*:}
  command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg")
done
# libftdi1 is a library, not a binary: ask the loader.
if ! ldconfig -p 2>/dev/null | grep -q 'libftdi1\.so\.2'; then missing+=(libftdi1-2); fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "deps: the .NET 10 SDK is missing; install it from your distribution or dotnet.microsoft.com" >&2
  exit 1
fi
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all present"
  exit 0
fi
cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: missing ${missing[*]}; install with: sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
# shellcheck disable=SC2086
$cmd >/dev/null
echo "deps: installed ${missing[*]}"
