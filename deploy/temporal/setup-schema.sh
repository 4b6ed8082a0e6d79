#!/bin/sh
# One-shot (docker-compose.yml, temporal-schema): creates Temporal's two PostgreSQL databases and
# brings their schemas to the latest versions this admin-tools image ships. Safe to run again, and
# what upgrades the schemas after the images are bumped: an existing database is kept, setup-schema
# leaves a database past version 0.0 alone, update-schema applies only the missing versions.
set -eu

SQL_PASSWORD="$(cat /run/secrets/temporal_db_password)"
export SQL_PASSWORD

sql() {
  temporal-sql-tool --plugin postgres12 --endpoint "$DB_HOST" --port "$DB_PORT" --user "$DB_USER" "$@"
}

for pair in "$DBNAME:temporal" "$VISIBILITY_DBNAME:visibility"; do
  db=${pair%%:*}
  schema=${pair#*:}
  if out=$(sql --database "$db" create-database 2>&1); then
    echo "database $db created"
  else
    case $out in
      *"already exists"*) echo "database $db exists" ;;
      *)
        echo "$out" >&2
        exit 1
        ;;
    esac
  fi
  sql --database "$db" setup-schema -v 0.0
  sql --database "$db" update-schema -d "/etc/temporal/schema/postgresql/v12/$schema/versioned"
done
echo "Temporal schemas up to date"
