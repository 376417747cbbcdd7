#!/usr/bin/env bash
# Installs everything volley needs to build, test and benchmark, from Debian packages.
# Runs as root or through sudo. Pass --bench to add the anchors (Brian2, PyTorch) and perf tools.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
packages=(build-essential cmake pkg-config git
          libfmt-dev libtomlplusplus-dev libcli11-dev libhdf5-dev nlohmann-json3-dev
          googletest libgtest-dev libgmock-dev libbenchmark-dev hdf5-tools
          zlib1g-dev dataset-fashion-mnist libsndfile1-dev espeak-ng python3-h5py
          gnuplot-nox chromium python3-pil libeigen3-dev
          pybind11-dev python3-dev python3-numpy python3-pytest python3-matplotlib
          python3-pip python3-setuptools python3-venv
          libopenmpi-dev openmpi-bin)
if [ "${1:-}" = "--bench" ]; then
  packages+=(python3-brian python3-torch linux-perf valgrind time)
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps: ${#packages[@]} packages present"
