#!/usr/bin/env bash
# Installs the system services the test suite starts (git servers, PostgreSQL,
# Docker, Azurite, ...). Each service family has its own script in setup.d/, run in
# name order; they install only what is missing, so a second run takes seconds.
# Without root, apt packages cannot be installed: the tests that need them are then
# skipped with the reason printed (and fail under CI=true).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export PREFECT_STORAGE_TOOLS="${PREFECT_STORAGE_TOOLS:-$HOME/.cache/prefect-storage-tools}"
mkdir -p "$PREFECT_STORAGE_TOOLS"
# shellcheck source=scripts/setup-lib.sh
source "$here/setup-lib.sh"
for step in "$here"/setup.d/*.sh; do
  [ -e "$step" ] || continue
  echo "setup: $(basename "$step")"
  # shellcheck disable=SC1090
  source "$step"
done
apt_flush
