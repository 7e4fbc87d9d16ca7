# Sourced by the demo and the benchmarks: starts the local AWS endpoint (moto) and,
# beside it, the local CloudTrail, each on a free port on 127.0.0.1, logging into
# $work, and stops both (and removes $work) when the calling script exits.
# Sets AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_CLOUDTRAIL (exported).
# Needs: $work (a scratch directory), scripts/setup-local-aws.sh already run.

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_local_aws() {
  local port
  port="$(free_port)"
  .venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
  local moto=$!
  # CloudTrail (moto has no LookupEvents): it prints the port it listens on.
  .venv/bin/python scripts/localaws/fake_cloudtrail.py >"$work/trail.port" 2>"$work/trail.log" &
  local trail=$!
  # shellcheck disable=SC2064  # the pids are known now
  trap "kill $moto $trail 2>/dev/null || true; rm -rf '$work'" EXIT
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [ -s "$work/trail.port" ] && break
    sleep 0.1
  done
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_ENDPOINT_URL_CLOUDTRAIL="http://127.0.0.1:$(head -1 "$work/trail.port")"
}
