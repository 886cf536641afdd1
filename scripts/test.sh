#!/usr/bin/env bash
# All tests: starts the local stack if needed, runs the pgTAP suite with pg_prove, then vitest,
# then the Python client's pytest suite (Debian's python3 and python3-pytest).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run --silent stack -- start >/dev/null
set -a; source .stack/env; set +a

psql -q "$DB_URL" -v ON_ERROR_STOP=1 -f supabase/tests/setup/helpers.sql
npx supabase db lint --db-url "$DB_URL" --schema public --level warning --fail-on error
pg_prove --dbname postgres --host 127.0.0.1 --port 54322 --username postgres supabase/tests/*.test.sql
npx vitest run "$@"
# Arguments pick vitest files; the Python suite runs with the whole run.
if [ $# -eq 0 ]; then
  "${PYTHON:-/usr/bin/python3}" -m pytest -q -p no:cacheprovider clients/python/tests
fi
