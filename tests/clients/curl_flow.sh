#!/usr/bin/env bash
# The integration guide's curl snippet with its hosts replaced by $OMBUD_URL and
# YOUR_PAT by $PAT_A, followed by checks on what the server returned.
# Needs OMBUD_URL, PAT_A, CONTROLLER_A and CONTROLLER_B (exported by run.sh).
set -euo pipefail
trap 'echo "curl_flow: command failed with status $? at line $LINENO" >&2' ERR

for tool in curl jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "curl_flow: $tool is missing; install it with: apt-get install $tool" >&2
    exit 1
  fi
done

: "${OMBUD_URL:?OMBUD_URL is not set: run tests/clients/run.sh}"
: "${PAT_A:?PAT_A is not set: run tests/clients/run.sh}"
: "${CONTROLLER_A:?CONTROLLER_A is not set: run tests/clients/run.sh}"
: "${CONTROLLER_B:?CONTROLLER_B is not set: run tests/clients/run.sh}"

# Step 1: Get JWT token
JWT=$(curl -s -X POST "$OMBUD_URL/v1/signin/pat" \
-H "Content-Type: application/json" \
-d '{"personalAccessToken": "'"$PAT_A"'"}' \
| jq -r '.session.accessToken')

# Step 2: Use JWT for API calls
RESPONSE=$(curl -X POST "$OMBUD_URL/v1/graphql" \
-H "Authorization: Bearer $JWT" \
-H "X-Hasura-Role: user" \
-H "Content-Type: application/json" \
-d '{"query": "{ dataControllers { id title } }"}')

failures=0

check() {
  local description=$1
  shift
  if "$@"; then
    echo "ok - $description"
  else
    echo "not ok - $description"
    failures=$((failures + 1))
  fi
}

# response_matches JQ_ARGS...: true when jq's filter yields true on the step 2 response.
response_matches() {
  jq -e "$@" <<<"$RESPONSE" >/dev/null
}

check "step 1 returned a JWT with three parts" \
  test "$(tr -cd '.' <<<"$JWT" | wc -c)" -eq 2
check "step 2 returned no errors" \
  response_matches 'has("errors") | not'
# shellcheck disable=SC2016 # $id is a jq variable, not a shell one.
check "step 2 lists controller $CONTROLLER_A titled Alice Shop" \
  response_matches --arg id "$CONTROLLER_A" \
  '[.data.dataControllers[] | select(.id == $id and .title == "Alice Shop")] | length == 1'
# shellcheck disable=SC2016 # $id is a jq variable, not a shell one.
check "step 2 hides Bob's controller $CONTROLLER_B" \
  response_matches --arg id "$CONTROLLER_B" \
  '[.data.dataControllers[] | select(.id == $id)] | length == 0'

if ((failures > 0)); then
  echo "curl_flow: step 2 response: $RESPONSE" >&2
  echo "curl_flow: $failures of 4 checks failed" >&2
  exit 1
fi
echo "curl_flow: 4 checks passed"
