#!/bin/sh
# One-time setup for docker-compose.yml: the token encryption key (./secrets/sevsync_secret_key) and the
# database passwords (./.env). Never overwrites either, so running it again is harmless. Back up the key:
# without it the stored sevDesk tokens cannot be decrypted.
set -eu
cd "$(dirname "$0")/.."
umask 077
mkdir -p secrets
chmod 700 secrets
if [ ! -s secrets/sevsync_secret_key ]; then
  openssl rand -base64 32 > secrets/sevsync_secret_key
  echo "created secrets/sevsync_secret_key: back it up (it decrypts the stored sevDesk tokens)"
fi
# The container's user (node, uid 1000) reads the bind-mounted file; the folder keeps others out on the host.
chmod 644 secrets/sevsync_secret_key
if [ ! -f .env ]; then
  {
    echo "POSTGRES_PASSWORD=$(openssl rand -hex 24)"
    echo "SEVSYNC_DB_PASSWORD=$(openssl rand -hex 24)"
    echo "SEVSYNC_APP_DB_PASSWORD=$(openssl rand -hex 24)"
    echo "TEMPORAL_DB_PASSWORD=$(openssl rand -hex 24)"
  } > .env
  echo "created .env (database passwords)"
fi
# .env from before the worker had a role of its own: add its password (the role itself is made by the
# init script on a new volume; on an existing one: CREATE ROLE sevsync_app LOGIN PASSWORD '<it>').
if ! grep -q '^SEVSYNC_APP_DB_PASSWORD=' .env; then
  echo "SEVSYNC_APP_DB_PASSWORD=$(openssl rand -hex 24)" >> .env
  echo "added SEVSYNC_APP_DB_PASSWORD to .env"
fi
