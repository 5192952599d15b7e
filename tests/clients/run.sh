#!/usr/bin/env bash
# Runs the integration guide's client snippets (curl, Python gql, JavaScript
# graphql-request) against a freshly started ombud on 127.0.0.1.
#
# OMBUD_BIN names the ombud binary (default target/debug/ombud, relative to the
# repository root). With OMBUD_TEST_BACKEND=postgres each server gets its own
# new database on the PostgreSQL server at OMBUD_TEST_POSTGRES_URL (default
# postgres://postgres@127.0.0.1:5432/postgres), dropped on exit; psql must be
# on the PATH. The script installs the pinned client libraries if they are
# missing, starts three servers with empty data directories (default token
# lifetime, 1 s and 305 s), bootstraps users, runs every suite and exits non-zero
# if any suite failed. The servers and their data directories are removed on exit.
set -euo pipefail

CLIENTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$CLIENTS_DIR/../.." && pwd)"
VENV_DIR="$CLIENTS_DIR/.venv"
JS_DIR="$CLIENTS_DIR/js"
HEALTH_TIMEOUT_SECONDS=30
SHORT_TTL_SECONDS=1
# The guide's DxtraClient refreshes 300 s before expiry, so 305 s opens that
# window 5 s after sign-in.
REFRESH_TTL_SECONDS=305

OMBUD_BIN="${OMBUD_BIN:-target/debug/ombud}"
if [[ "$OMBUD_BIN" != /* ]]; then
  OMBUD_BIN="$REPO_ROOT/$OMBUD_BIN"
fi

log() {
  echo "run.sh: $*" >&2
}

require_tool() {
  local tool=$1 package=$2
  if ! command -v "$tool" >/dev/null; then
    log "$tool is missing; install it with: apt-get install $package"
    exit 1
  fi
}

check_prerequisites() {
  require_tool curl curl
  require_tool jq jq
  require_tool python3 python3
  require_tool node nodejs
  require_tool npm npm

  local node_major
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  if ((node_major < 18)); then
    log "node $(node --version) is too old: the suite needs Node.js 18 or later for fetch and node:test"
    exit 1
  fi

  if [[ ! -x "$OMBUD_BIN" ]]; then
    log "ombud binary not found at $OMBUD_BIN: build it with 'cargo build -p ombud' or set OMBUD_BIN"
    exit 1
  fi
}

# Creates the virtualenv and installs requirements.txt when the file changed
# since the last install, keyed by its SHA-256.
install_python_clients() {
  local requirements="$CLIENTS_DIR/python/requirements.txt"
  local stamp="$VENV_DIR/.requirements.sha256"
  local wanted
  wanted="$(sha256sum "$requirements" | cut -d' ' -f1)"

  if [[ -f "$stamp" && "$(cat "$stamp")" == "$wanted" ]]; then
    return
  fi

  log "installing Python client libraries into $VENV_DIR"
  if ! python3 -m venv "$VENV_DIR"; then
    log "python3 -m venv failed; on Debian install it with: apt-get install python3-venv"
    exit 1
  fi
  "$VENV_DIR/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" >"$stamp"
}

# Runs npm ci when node_modules is missing or older than package-lock.json.
install_js_clients() {
  local installed_lock="$JS_DIR/node_modules/.package-lock.json"
  if [[ -f "$installed_lock" && "$installed_lock" -nt "$JS_DIR/package-lock.json" ]]; then
    return
  fi

  log "installing JavaScript client libraries with npm ci"
  (cd "$JS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
}

pick_free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

OMBUD_TEST_BACKEND="${OMBUD_TEST_BACKEND:-sqlite}"
POSTGRES_ADMIN_URL="${OMBUD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
WORK_DIR=""
SERVER_PIDS=()
SERVER_LOGS=()
DATABASES=()

cleanup() {
  local pid
  for pid in "${SERVER_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  for pid in "${SERVER_PIDS[@]}"; do
    # A server that ignores SIGTERM for 10 s gets SIGKILL.
    for _ in $(seq 1 100); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  local database
  for database in "${DATABASES[@]}"; do
    psql -q "$POSTGRES_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 ||
      log "could not drop the test database $database"
  done
  if [[ -n "$WORK_DIR" ]]; then
    rm -rf "$WORK_DIR"
  fi
}

# new_database NAME: creates an empty PostgreSQL database and prints its URL.
# It runs in a command substitution, so the caller records the database.
new_database() {
  local database
  database="ombud_clients_$1_$(date +%s)_$$"
  if ! psql -q "$POSTGRES_ADMIN_URL" -c "CREATE DATABASE \"$database\"" >/dev/null; then
    log "cannot create a database on $POSTGRES_ADMIN_URL; is PostgreSQL running?"
    exit 1
  fi
  echo "${POSTGRES_ADMIN_URL%/*}/$database"
}

print_server_logs() {
  local server_log
  for server_log in "${SERVER_LOGS[@]}"; do
    log "----- $server_log (last 100 lines) -----"
    tail -n 100 "$server_log" >&2 || true
  done
}

# start_server NAME TTL_SECONDS: starts `ombud serve` with its own data
# directory (and database) and sets STARTED_URL, STARTED_DATA_DIR (the
# arguments that select its storage) and STARTED_LOG. An empty TTL keeps the
# server's default token lifetime.
start_server() {
  local name=$1 ttl=$2
  local port
  port="$(pick_free_port)"
  STARTED_DATA_DIR="$WORK_DIR/$name-data"
  STARTED_LOG="$WORK_DIR/$name.log"
  STARTED_URL="http://127.0.0.1:$port"
  mkdir -p "$STARTED_DATA_DIR"
  if [[ "$OMBUD_TEST_BACKEND" == postgres ]]; then
    # The URL names a database on 127.0.0.1 under trust auth: no secret.
    export OMBUD_DATABASE__URL
    OMBUD_DATABASE__URL="$(new_database "${name//-/_}")"
    STARTED_DATABASE_URL="$OMBUD_DATABASE__URL"
    DATABASES+=("${STARTED_DATABASE_URL##*/}")
  fi

  if [[ -n "$ttl" ]]; then
    # No clock skew, so that an expired token is rejected as soon as it expires.
    (cd "$WORK_DIR" && exec env OMBUD_AUTH__ACCESS_TOKEN_TTL="$ttl" OMBUD_AUTH__CLOCK_SKEW=0 \
      "$OMBUD_BIN" serve --listen "127.0.0.1:$port" --data-dir "$STARTED_DATA_DIR") \
      >"$STARTED_LOG" 2>&1 &
  else
    (cd "$WORK_DIR" && exec env -u OMBUD_AUTH__ACCESS_TOKEN_TTL \
      "$OMBUD_BIN" serve --listen "127.0.0.1:$port" --data-dir "$STARTED_DATA_DIR") \
      >"$STARTED_LOG" 2>&1 &
  fi
  SERVER_PIDS+=("$!")
  SERVER_LOGS+=("$STARTED_LOG")
  if [[ "$OMBUD_TEST_BACKEND" == postgres ]]; then
    echo "$STARTED_DATABASE_URL" >"$STARTED_DATA_DIR/database-url"
    unset OMBUD_DATABASE__URL
  fi
  log "started ombud $name (pid $!) on $STARTED_URL"
}

# wait_healthy URL PID LOG: polls GET /healthz until it returns 200.
wait_healthy() {
  local url=$1 pid=$2 server_log=$3
  local deadline=$((SECONDS + HEALTH_TIMEOUT_SECONDS))

  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "ombud (pid $pid) exited before $url/healthz returned 200; its log:"
      cat "$server_log" >&2
      exit 1
    fi
    if curl -fsS -o /dev/null --max-time 2 "$url/healthz" 2>/dev/null; then
      return
    fi
    sleep 0.2
  done

  log "$url/healthz did not return 200 within $HEALTH_TIMEOUT_SECONDS s; server log:"
  cat "$server_log" >&2
  exit 1
}

# bootstrap DATA_DIR EMAIL TITLE: prints ombud's bootstrap JSON after checking
# that it contains every field the suites use. With PostgreSQL, DATA_DIR's
# server database is found from the file database-url in it.
bootstrap() {
  local data_dir=$1 email=$2 title=$3
  local output
  local storage=(--data-dir "$data_dir")
  if [[ -f "$data_dir/database-url" ]]; then
    storage+=(--database-url "$(cat "$data_dir/database-url")")
  fi

  if ! output="$("$OMBUD_BIN" bootstrap --email "$email" --controller "$title" "${storage[@]}" --json)"; then
    log "ombud bootstrap failed for $email / $title"
    exit 1
  fi
  if ! jq -e '.userId and .dataControllerId and .dataControllerDid and .dxKey and .personalAccessToken' \
    >/dev/null <<<"$output"; then
    log "ombud bootstrap for $email printed an incomplete JSON object: $output"
    exit 1
  fi
  echo "$output"
}

field() {
  jq -r ".$2" <<<"$1"
}

run_suite() {
  local name=$1
  shift
  log "=== $name ==="
  if "$@"; then
    PASSED_SUITES+=("$name")
  else
    FAILED_SUITES+=("$name")
  fi
}

main() {
  case "$OMBUD_TEST_BACKEND" in
    sqlite) ;;
    postgres) require_tool psql postgresql-client ;;
    *)
      log "OMBUD_TEST_BACKEND must be sqlite or postgres, not $OMBUD_TEST_BACKEND"
      exit 1
      ;;
  esac
  check_prerequisites
  install_python_clients
  install_js_clients

  WORK_DIR="$(mktemp -d -t ombud-clients.XXXXXX)"
  trap cleanup EXIT
  trap 'exit 130' INT TERM

  start_server main ""
  local main_url=$STARTED_URL main_data=$STARTED_DATA_DIR main_log=$STARTED_LOG
  local main_pid=${SERVER_PIDS[-1]}
  start_server short-ttl "$SHORT_TTL_SECONDS"
  local short_url=$STARTED_URL short_data=$STARTED_DATA_DIR short_log=$STARTED_LOG
  local short_pid=${SERVER_PIDS[-1]}
  start_server refresh-ttl "$REFRESH_TTL_SECONDS"
  local refresh_url=$STARTED_URL refresh_data=$STARTED_DATA_DIR refresh_log=$STARTED_LOG
  local refresh_pid=${SERVER_PIDS[-1]}

  wait_healthy "$main_url" "$main_pid" "$main_log"
  wait_healthy "$short_url" "$short_pid" "$short_log"
  wait_healthy "$refresh_url" "$refresh_pid" "$refresh_log"

  local alice alice_second bob short_user refresh_user
  alice="$(bootstrap "$main_data" alice@example.com "Alice Shop")"
  bob="$(bootstrap "$main_data" bob@example.com "Bob Store")"
  # A second bootstrap with the same email reuses the user and adds a controller.
  alice_second="$(bootstrap "$main_data" alice@example.com "Alice Outlet")"
  short_user="$(bootstrap "$short_data" alice@example.com "Alice Shop")"
  refresh_user="$(bootstrap "$refresh_data" alice@example.com "Alice Shop")"

  if [[ "$(field "$alice_second" userId)" != "$(field "$alice" userId)" ]]; then
    log "second bootstrap of alice@example.com created another user: $alice_second"
    exit 1
  fi

  export OMBUD_URL="$main_url"
  export USER_A PAT_A CONTROLLER_A CONTROLLER_DID_A DX_KEY_A PAT_A2 CONTROLLER_A2
  USER_A="$(field "$alice" userId)"
  PAT_A="$(field "$alice" personalAccessToken)"
  CONTROLLER_A="$(field "$alice" dataControllerId)"
  CONTROLLER_DID_A="$(field "$alice" dataControllerDid)"
  DX_KEY_A="$(field "$alice" dxKey)"
  PAT_A2="$(field "$alice_second" personalAccessToken)"
  CONTROLLER_A2="$(field "$alice_second" dataControllerId)"
  export USER_B PAT_B CONTROLLER_B CONTROLLER_DID_B DX_KEY_B
  USER_B="$(field "$bob" userId)"
  PAT_B="$(field "$bob" personalAccessToken)"
  CONTROLLER_B="$(field "$bob" dataControllerId)"
  CONTROLLER_DID_B="$(field "$bob" dataControllerDid)"
  DX_KEY_B="$(field "$bob" dxKey)"
  # The guide's DxtraClient usage snippet reads its PAT from DXTRA_PAT.
  export DXTRA_PAT="$PAT_A"
  export OMBUD_SHORT_TTL_URL="$short_url" OMBUD_SHORT_TTL_SECONDS="$SHORT_TTL_SECONDS"
  export PAT_SHORT
  PAT_SHORT="$(field "$short_user" personalAccessToken)"
  export OMBUD_REFRESH_URL="$refresh_url" OMBUD_REFRESH_TTL_SECONDS="$REFRESH_TTL_SECONDS"
  export PAT_REFRESH
  PAT_REFRESH="$(field "$refresh_user" personalAccessToken)"

  PASSED_SUITES=()
  FAILED_SUITES=()
  run_suite curl bash "$CLIENTS_DIR/curl_flow.sh"
  run_suite python env PYTHONDONTWRITEBYTECODE=1 \
    "$VENV_DIR/bin/python" -m pytest -p no:cacheprovider -q "$CLIENTS_DIR/python"
  # shellcheck disable=SC2016 # $1 expands in the child shell.
  run_suite javascript bash -c 'cd "$1" && node --test test/*.test.js' _ "$JS_DIR"

  if ((${#FAILED_SUITES[@]} > 0)); then
    print_server_logs
    log "failed suites: ${FAILED_SUITES[*]}"
  fi
  echo "suites: ${#PASSED_SUITES[@]} passed, ${#FAILED_SUITES[@]} failed"
  ((${#FAILED_SUITES[@]} == 0))
}

main "$@"
