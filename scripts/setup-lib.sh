# Helpers for scripts/setup.d/*.sh (sourced, not run).

_apt_wanted=()

# apt_want PKG...: queue Debian packages; apt_flush installs the missing ones in one go.
apt_want() {
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || _apt_wanted+=("$pkg")
  done
}

apt_flush() {
  [ "${#_apt_wanted[@]}" -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ]; then
    echo "setup: not root; cannot install ${_apt_wanted[*]} (tests needing them will be skipped)" >&2
    _apt_wanted=()
    return 0
  fi
  echo "setup: apt-get install ${_apt_wanted[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${_apt_wanted[@]}" >/dev/null
  _apt_wanted=()
}
