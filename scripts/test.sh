#!/usr/bin/env bash
# The test suite from a fresh clone: installs what is missing, builds
# build/ (Release; warnings are errors when CI=true), fetches MNIST and
# Fashion-MNIST into data/ (nothing to do once they are there and verified),
# then runs ctest and exits with its status. Works from any folder.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/setup.sh
werror=OFF mpi=AUTO
if [ "${CI:-}" = true ]; then werror=ON mpi=ON; fi # CI proves the MPI tests ran
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DCNIST_WERROR="$werror" -DCNIST_MPI="$mpi"
cmake --build build -j2
build/cnist data fetch mnist
build/cnist data fetch fashion
ctest --test-dir build --output-on-failure
