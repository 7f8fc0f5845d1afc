#!/usr/bin/env bash
# Builds the bot's image and runs the deploy for real on this machine, which has no Docker
# engine and can pull nothing:
#   - deploy/lint.sh (Caddyfile, Dockerfile and compose.yaml, statically);
#   - local base images, made once and then reused: Debian bookworm (debootstrap, then
#     `podman import`), and from it the stand-ins for rust:1-bookworm (this machine's Rust
#     toolchain copied in: offline, and the compiler the tests use) and for
#     distroless/base-nossl-debian12:nonroot (the same packages, unpacked) in deploy/check/;
#   - the image, built by buildah from the repository's Dockerfile with those base images
#     as build arguments, and what it promises: size, user, /data, port, env, healthcheck;
#   - the container, started with `buildah run`: its HEALTHCHECK fails before the bot is up
#     and passes once it is;
#   - Caddy (Debian's) serving deploy/Caddyfile as deployed, but with `local_certs` (its own
#     CA, `tls internal`) on loopback; a task submitted over HTTPS through it and completed
#     by a real worker that trusts Caddy's CA through `server_ca_file`;
#   - SIGTERM, as `docker stop` sends it: the bot exits 0.
# Run as root from anywhere: `deploy/check.sh`. Idempotent; it stops every process and
# container it started, also on failure, and exits non-zero on any failure. Logs and scratch
# files: target/tmp/deploy-check/. Loopback ports: CHECK_BOT_PORT (23456), CHECK_HTTPS_PORT
# (23443), CHECK_HTTP_PORT (23080). To rebuild a stand-in (e.g. after a toolchain update):
# `buildah rmi localhost/rust:1-bookworm`.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$repo/target/tmp/deploy-check
bot_port=${CHECK_BOT_PORT:-23456}
https_port=${CHECK_HTTPS_PORT:-23443}
http_port=${CHECK_HTTP_PORT:-23080}
mirror=${CHECK_DEBIAN_MIRROR:-http://deb.debian.org/debian}
debian_image=localhost/debian:bookworm-slim
builder_image=localhost/rust:1-bookworm
runtime_image=localhost/distroless-base-nossl:bookworm-nonroot
image=localhost/openclaw-bot:check
ctr=openclaw-check-bot
max_image_bytes=40000000

started=$SECONDS
step_started=$SECONDS
step_name=
pids=()

finish_step() {
  if [ -n "$step_name" ]; then echo "   ok ($((SECONDS - step_started)) s)"; fi
}
step() {
  finish_step
  step_name=$1
  step_started=$SECONDS
  echo "== $1"
}
fail() {
  echo "FAILED: $*" >&2
  exit 1
}
# Prints every descendant of a process, found through the process table by parent id.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$child"
    descendants "$child"
  done
}
# SIGTERM to a process we started and its descendants; SIGKILL to what is left after 10 s.
stop_tree() {
  local pid=$1 all
  all="$pid $(descendants "$pid" | tr '\n' ' ')"
  # shellcheck disable=SC2086
  kill -TERM $all 2>/dev/null || true
  for _ in $(seq 100); do
    # shellcheck disable=SC2086
    kill -0 $all 2>/dev/null || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $all 2>/dev/null || true
}
cleanup() {
  local status=$?
  set +e
  for pid in "${pids[@]}"; do stop_tree "$pid"; done
  buildah rm "$ctr" >/dev/null 2>&1
  if [ "$status" -eq 0 ]; then
    finish_step
    echo "deploy check PASSED in $((SECONDS - started)) s"
  else
    echo "deploy check FAILED after $((SECONDS - started)) s (during: $step_name); logs in $work" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
have_image() { buildah inspect --type image "$1" >/dev/null 2>&1; }
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
token() { python3 -c 'import secrets; print(secrets.token_hex(24))'; }

step "prerequisites"
[ "$(id -u)" = 0 ] || fail "run as root: buildah and debootstrap need it"
missing=()
for tool in buildah podman debootstrap caddy curl python3; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)
if [ ${#missing[@]} -gt 0 ]; then
  echo "   installing ${missing[*]}"
  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
fi
command -v cargo >/dev/null || fail "cargo is needed to build the worker"
for port in "$bot_port" "$https_port" "$http_port"; do
  port_free "$port" || fail "127.0.0.1:$port is in use (a previous run still going? set CHECK_*_PORT)"
done
mkdir -p "$work"
echo "   $(buildah --version), caddy $(caddy version | cut -d' ' -f1), work dir $work"

step "lint (deploy/lint.sh)"
"$repo/deploy/lint.sh"

step "local base images"
if have_image "$debian_image"; then
  echo "   $debian_image: present"
else
  echo "   $debian_image: debootstrap bookworm (minbase) from $mirror"
  rm -rf "$work/rootfs"
  debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log"; fail "debootstrap"; }
  rm -f "$work"/rootfs/var/cache/apt/archives/*.deb
  tar -C "$work/rootfs" -c . | podman import --change 'CMD ["/bin/bash"]' - "$debian_image" \
    >"$work/import.log" 2>&1 || { tail -20 "$work/import.log"; fail "podman import"; }
  rm -rf "$work/rootfs"
fi
if have_image "$builder_image"; then
  echo "   $builder_image: present"
else
  sysroot=$(rustc --print sysroot)
  echo "   $builder_image: bookworm + gcc + the toolchain in $sysroot"
  buildah build --isolation chroot --layers --force-rm -f "$repo/deploy/check/builder.Containerfile" \
    --build-arg DEBIAN_IMAGE="$debian_image" -t "$builder_image" "$sysroot" >"$work/builder.log" 2>&1 \
    || { tail -20 "$work/builder.log"; fail "building $builder_image"; }
fi
if have_image "$runtime_image"; then
  echo "   $runtime_image: present"
else
  echo "   $runtime_image: the distroless base-nossl packages, unpacked"
  buildah build --isolation chroot --layers --force-rm -f "$repo/deploy/check/runtime.Containerfile" \
    --build-arg DEBIAN_IMAGE="$debian_image" -t "$runtime_image" "$repo/deploy/check" \
    >"$work/runtime.log" 2>&1 || { tail -20 "$work/runtime.log"; fail "building $runtime_image"; }
fi

step "image build (buildah, Dockerfile at the repository root)"
# The build downloads crates. Its steps see this machine's CA bundle, so an egress proxy
# that inspects TLS (as on our build machines) is trusted; nothing of it enters the image.
ca_mount=()
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  ca_mount=(--volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro)
fi
# Docker format: the OCI image format has no HEALTHCHECK.
buildah build --isolation chroot --layers --force-rm --format docker "${ca_mount[@]}" \
  --build-arg BUILDER_IMAGE="$builder_image" --build-arg RUNTIME_IMAGE="$runtime_image" \
  -t "$image" "$repo" >"$work/build.log" 2>&1 || { tail -30 "$work/build.log"; fail "image build"; }
{ grep -E '^\[[0-9]/[0-9]\] STEP|Using cache|Finished' "$work/build.log" || true; } | sed 's/^/   /' | tail -20

step "image contents and configuration"
buildah rm "$ctr" >/dev/null 2>&1 || true
buildah from --name "$ctr" "$image" >/dev/null
size=$(podman image inspect --format '{{.Size}}' "$image")
base_size=$(podman image inspect --format '{{.Size}}' "$runtime_image")
mnt=$(buildah mount "$ctr")
binary_size=$(stat -c %s "$mnt/usr/local/bin/openclaw-bot")
data_dir=$(stat -c '%u:%g %a' "$mnt/data")
buildah umount "$ctr" >/dev/null
echo "   image $size bytes ($((size / 1000000)) MB): base $base_size, openclaw-bot $binary_size"
[ "$size" -le "$max_image_bytes" ] || fail "the image is over $max_image_bytes bytes"
echo "   /data: owner and mode $data_dir"
[ "$data_dir" = "65532:65532 700" ] || fail "/data must be 65532:65532, mode 700"
config=$(buildah inspect --type image "$image" \
  | python3 -c 'import json, sys; print(json.dumps(json.load(sys.stdin)["Docker"]["config"]))')
python3 - "$config" <<'PY'
import json, sys
config = json.loads(sys.argv[1])
expect = {
    "User": "65532:65532",
    "Volumes": {"/data": {}},
    "ExposedPorts": {"3456/tcp": {}},
    "Entrypoint": ["/usr/local/bin/openclaw-bot"],
}
problems = [f"{k} is {config.get(k)!r}, expected {v!r}" for k, v in expect.items() if config.get(k) != v]
if "OPENCLAW_HTTP__BIND=0.0.0.0:3456" not in config.get("Env", []):
    problems.append("Env lacks OPENCLAW_HTTP__BIND=0.0.0.0:3456")
health = config.get("Healthcheck") or {}
if health.get("Test") != ["CMD", "/usr/local/bin/openclaw-bot", "healthcheck"]:
    problems.append(f"Healthcheck is {health!r}")
for problem in problems:
    print(f"   {problem}")
print(f"   user {config['User']}, volume /data, port 3456, healthcheck {health['Test'][1:]} "
      f"every {health.get('Interval', 0) // 10**9} s")
sys.exit(1 if problems else 0)
PY
mapfile -t entrypoint < <(python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])["Entrypoint"]))' "$config")
mapfile -t healthcheck < <(python3 -c 'import json, sys; print("\n".join(json.loads(sys.argv[1])["Healthcheck"]["Test"][1:]))' "$config")

client_token=oc_client_$(token)
worker_token=oc_worker_$(token)
admin_token=oc_admin_$(token)
# `buildah run` shares this machine's network (chroot isolation), so the bot listens on
# loopback here rather than on the image's 0.0.0.0; the proxy it trusts is Caddy on loopback.
ctr_env=(
  --env "OPENCLAW_HTTP__BIND=127.0.0.1:$bot_port"
  --env "OPENCLAW_AUTH__CLIENT_TOKEN=$client_token"
  --env "OPENCLAW_AUTH__WORKER_TOKEN=$worker_token"
  --env "OPENCLAW_AUTH__ADMIN_TOKEN=$admin_token"
  --env 'OPENCLAW_RATE_LIMIT__TRUSTED_PROXIES=["127.0.0.1"]'
  --env OPENCLAW_RATE_LIMIT__CLIENT_IP_HEADER=x-forwarded-for
)
in_ctr() { buildah run --isolation chroot "${ctr_env[@]}" "$ctr" -- "$@"; }

step "container: healthcheck before the bot runs"
set +e
in_ctr "${healthcheck[@]}" >"$work/healthcheck-before.log" 2>&1
code=$?
set -e
echo "   exit $code: $(grep -m1 openclaw-bot "$work/healthcheck-before.log")"
[ "$code" -eq 1 ] || fail "the healthcheck must exit 1 while nothing listens"

step "container: start the bot, wait for its healthcheck"
in_ctr "${entrypoint[@]}" >"$work/bot.log" 2>&1 &
bot_runner=$!
pids+=("$bot_runner")
healthy=
for _ in $(seq 60); do
  kill -0 "$bot_runner" 2>/dev/null || { tail -20 "$work/bot.log"; fail "the bot exited"; }
  if in_ctr "${healthcheck[@]}" >/dev/null 2>&1; then healthy=1; break; fi
  sleep 0.5
done
[ -n "$healthy" ] || { tail -20 "$work/bot.log"; fail "not healthy within 30 s"; }
bot_pid=
for pid in $(descendants "$bot_runner"); do
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = openclaw-bot ]; then bot_pid=$pid; fi
done
[ -n "$bot_pid" ] || fail "cannot find the bot's process"
uid=$(awk '/^Uid:/ { print $2 }' "/proc/$bot_pid/status")
echo "   healthy; the bot runs as uid $uid"
[ "$uid" = 65532 ] || fail "the bot must not run as uid $uid"

step "Caddy: deploy/Caddyfile with local_certs on loopback"
caddy_dir=$work/caddy
rm -rf "$caddy_dir"
mkdir -p "$caddy_dir"
# The deployed file, imported after the options a loopback test needs: Caddy's own CA
# instead of ACME (kept in its storage, not installed into this machine's trust store),
# loopback only, unprivileged ports.
cat >"$caddy_dir/Caddyfile" <<EOF
{
	local_certs
	skip_install_trust
	admin off
	default_bind 127.0.0.1
	http_port $http_port
	https_port $https_port
	storage file_system $caddy_dir/storage
}
import $repo/deploy/Caddyfile
EOF
OPENCLAW_DOMAIN=localhost:$https_port OPENCLAW_UPSTREAM=127.0.0.1:$bot_port \
  XDG_DATA_HOME=$caddy_dir XDG_CONFIG_HOME=$caddy_dir \
  caddy run --config "$caddy_dir/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 &
caddy_pid=$!
pids+=("$caddy_pid")
ca=$caddy_dir/storage/pki/authorities/local/root.crt
base=https://localhost:$https_port
https() { curl -sS --max-time 40 --cacert "$ca" --resolve "localhost:$https_port:127.0.0.1" "$@"; }
up=
for _ in $(seq 60); do
  kill -0 "$caddy_pid" 2>/dev/null || { tail -20 "$work/caddy.log"; fail "caddy exited"; }
  if [ -f "$ca" ] && https -f "$base/health" >"$work/health.json" 2>/dev/null; then up=1; break; fi
  sleep 0.5
done
[ -n "$up" ] || { tail -20 "$work/caddy.log"; fail "no HTTPS answer from Caddy within 30 s"; }
echo "   $base/health: $(cat "$work/health.json") (certificate from Caddy's local CA)"
if curl -sS --max-time 5 --resolve "localhost:$https_port:127.0.0.1" "$base/health" >/dev/null 2>&1; then
  fail "the certificate must not be trusted without Caddy's CA"
fi

step "client: submit a task over HTTPS through Caddy"
answer=$(https -f -H "Authorization: Bearer $client_token" -H 'content-type: application/json' \
  -d '{"command":"uname -a"}' "$base/tasks")
task_id=$(json_field taskId <<<"$answer")
echo "   $answer"

step "worker: build (cargo, debug profile)"
cargo build --locked -q -p openclaw-worker --manifest-path "$repo/Cargo.toml" 2>&1 | tail -5
worker_bin=$(cargo metadata --format-version 1 --no-deps --manifest-path "$repo/Cargo.toml" \
  | json_field target_directory)/debug/openclaw-worker
echo "   $worker_bin"

step "worker: init, then run with server_ca_file = Caddy's root"
worker_home=$work/worker-home
rm -rf "$worker_home"
mkdir -m 700 "$worker_home"
worker_env=(env -u OPENCLAW_WORKER_CONFIG "HOME=$worker_home" "WORKER_URL=$base"
  "WORKER_TOKEN=$worker_token" WORKER_NAME=check-worker)
(cd "$worker_home" && "${worker_env[@]}" "$worker_bin" init >"$work/worker-init.log" 2>&1) \
  || { tail -20 "$work/worker-init.log"; fail "openclaw-worker init"; }
(cd "$worker_home" && exec "${worker_env[@]}" "OPENCLAW_WORKER_SERVER_CA_FILE=$ca" \
  OPENCLAW_WORKER_POLL_WAIT_SECS=5 "$worker_bin" >"$work/worker.log" 2>&1) &
pids+=("$!")
result=
for _ in $(seq 12); do
  result=$(https -f -H "Authorization: Bearer $client_token" "$base/tasks/$task_id?wait=5000")
  case $(json_field status <<<"$result") in
    pending | running) ;;
    *) break ;;
  esac
done
status=$(json_field status <<<"$result")
stdout=$(json_field stdout <<<"$result")
echo "   task $task_id: $status, worker $(json_field worker <<<"$result"), stdout: ${stdout%$'\n'}"
if [ "$status" != succeeded ] || [[ $stdout != Linux* ]]; then
  tail -20 "$work/worker.log"
  fail "the task did not succeed: $result"
fi
health=$(https -f -H "Authorization: Bearer $admin_token" "$base/admin/health")
python3 - "$health" <<'PY'
import json, sys
workers = json.loads(sys.argv[1])["workers"]
for w in workers:
    print(f"   /admin/health: worker {w['name']}, sandbox {w['sandbox']}")
sys.exit(0 if any(w["name"] == "check-worker" for w in workers) else 1)
PY

step "stop: SIGTERM to the bot, as docker stop sends it"
kill -TERM "$bot_pid"
set +e
timeout 15 tail --pid="$bot_runner" -f /dev/null
wait "$bot_runner"
code=$?
set -e
echo "   exit $code: $(tail -1 "$work/bot.log" | cut -c1-160)"
[ "$code" -eq 0 ] || fail "the bot must stop cleanly on SIGTERM"
