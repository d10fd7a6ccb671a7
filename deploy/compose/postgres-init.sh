#!/bin/sh
# Runs once, on an empty data volume (docker-entrypoint-initdb.d): one role per application, each owning
# only its own databases, and sevsync_app (the worker's: rows only, granted by `sevsync migrate`). Passwords
# come from .env (scripts/compose-init.sh).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  -v sevsync_pw="$SEVSYNC_DB_PASSWORD" -v app_pw="$SEVSYNC_APP_DB_PASSWORD" -v temporal_pw="$TEMPORAL_DB_PASSWORD" <<'SQL'
CREATE ROLE sevsync LOGIN PASSWORD :'sevsync_pw';
CREATE ROLE sevsync_app LOGIN PASSWORD :'app_pw';
CREATE ROLE temporal LOGIN PASSWORD :'temporal_pw';
CREATE DATABASE sevsync OWNER sevsync;
CREATE DATABASE temporal OWNER temporal;
CREATE DATABASE temporal_visibility OWNER temporal;
REVOKE ALL ON DATABASE sevsync FROM PUBLIC;
GRANT CONNECT ON DATABASE sevsync TO sevsync_app;
REVOKE ALL ON DATABASE temporal FROM PUBLIC;
REVOKE ALL ON DATABASE temporal_visibility FROM PUBLIC;
SQL
