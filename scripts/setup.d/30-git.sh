# Git servers for the Git-family tests: git itself (http-backend, daemon) and an
# OpenSSH server the tests start privately on a free port (never as a service).
apt_want git openssh-server openssh-client
