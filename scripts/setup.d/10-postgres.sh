# PostgreSQL server for the registry tests: tests/services/postgres.py starts a private
# cluster (initdb + postgres as the `postgres` user) in a temp dir on a free port.
apt_want postgresql
