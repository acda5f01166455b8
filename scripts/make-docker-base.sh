#!/usr/bin/env bash
# Makes the Python base image's root filesystem for the Docker tests, once:
# debootstrap (Debian bookworm, minbase + python3/pip) packed as a gzipped tarball.
# The tests `docker import` the tarball; later runs reuse it and skip debootstrap.
# Usage: make-docker-base.sh OUTPUT.tar.gz   (needs root and debootstrap)
set -euo pipefail
out="$1"
[ -s "$out" ] && exit 0
work="$(mktemp -d "${TMPDIR:-/tmp}/pybase.XXXXXX")"
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates \
  bookworm "$work/rootfs" >"$work/debootstrap.log" 2>&1 || { tail -n 30 "$work/debootstrap.log" >&2; exit 1; }
tar -C "$work/rootfs" --exclude='./var/cache/apt/archives/*.deb' --exclude='./var/lib/apt/lists/*' \
  --exclude=./usr/share/doc --exclude=./usr/share/man --exclude=./usr/share/locale \
  --exclude=./usr/share/info -czf "$work/rootfs.tar.gz" .
mv "$work/rootfs.tar.gz" "$out"
