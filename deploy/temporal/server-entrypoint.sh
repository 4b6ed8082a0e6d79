#!/bin/sh
# The Temporal server image takes its database password from POSTGRES_PWD only (its config template
# has no _FILE variant): read it from the mounted secret, so that it is neither in docker-compose.yml
# nor in the container's environment as `docker inspect` shows it, then run the image's own
# entrypoint (which renders the config template and starts the server).
set -eu
POSTGRES_PWD="$(cat /run/secrets/temporal_db_password)"
export POSTGRES_PWD
exec /etc/temporal/entrypoint.sh "$@"
