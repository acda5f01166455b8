# Docker storage tests: a Docker engine, Debian's registry, htpasswd for its auth,
# and the debootstrapped Python base image (made once, cached under $PREFECT_STORAGE_TOOLS).
apt_want docker.io docker-registry debootstrap apache2-utils
apt_flush
if [ "$(id -u)" = 0 ] && command -v debootstrap >/dev/null; then
  if [ ! -s "$PREFECT_STORAGE_TOOLS/docker/pybase-bookworm.tar.gz" ]; then
    echo "setup: debootstrap the Docker test base image (about 1 min, once)"
    mkdir -p "$PREFECT_STORAGE_TOOLS/docker"
    bash "$here/make-docker-base.sh" "$PREFECT_STORAGE_TOOLS/docker/pybase-bookworm.tar.gz"
  fi
fi
