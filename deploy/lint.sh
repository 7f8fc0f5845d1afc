#!/usr/bin/env bash
# The cheap part of the deploy check, with no container engine and no build: Caddy parses
# deploy/Caddyfile as deployed, and the Dockerfile and deploy/compose.yaml keep the promises
# the README makes (non-root, /data volume, healthcheck, only 443 exposed, the bot trusting
# exactly its proxy). Needs caddy and python3 with PyYAML (Debian: caddy, python3-yaml).
# CI runs this; deploy/check.sh runs it first, then builds and runs the real thing.
set -euo pipefail
cd "$(dirname "$0")/.."

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

echo "-- caddy validate deploy/Caddyfile"
# Storage and config under the scratch dir: validating must leave nothing behind.
XDG_DATA_HOME=$scratch XDG_CONFIG_HOME=$scratch OPENCLAW_DOMAIN=bot.example.com \
  caddy validate --config deploy/Caddyfile --adapter caddyfile >"$scratch/caddy.log" 2>&1 \
  || { cat "$scratch/caddy.log"; exit 1; }

echo "-- Dockerfile, compose.yaml and .env.example"
python3 - <<'PY'
import ipaddress, json, re, sys
import yaml

failures = []
def check(ok, what):
    if not ok:
        failures.append(what)

# Dockerfile: instructions with their continuation lines joined.
text = open("Dockerfile").read()
lines = re.sub(r"\\\n", " ", text).splitlines()
instructions = [l.strip() for l in lines if l.strip() and not l.strip().startswith("#")]
froms = [i for i in instructions if i.upper().startswith("FROM ")]
first_from = instructions.index(froms[0])
args = {i.split()[1].split("=")[0] for i in instructions[:first_from] if i.upper().startswith("ARG ")}
check({"BUILDER_IMAGE", "RUNTIME_IMAGE"} <= args, "Dockerfile: base images are ARGs before FROM")
check(froms[-1].split()[1] == "${RUNTIME_IMAGE}", "Dockerfile: the last stage is FROM ${RUNTIME_IMAGE}")
final = instructions[instructions.index(froms[-1]):]
def last(keyword):
    found = [i for i in final if i.upper().startswith(keyword + " ")]
    return found[-1][len(keyword) + 1:].strip() if found else ""
user = last("USER").split(":")[0]
check(user not in ("", "0", "root"), "Dockerfile: the runtime stage runs as a non-root USER")
check(last("VOLUME") in ("/data", '["/data"]'), "Dockerfile: VOLUME /data")
check(last("EXPOSE") == "3456", "Dockerfile: EXPOSE 3456")
check("OPENCLAW_HTTP__BIND=0.0.0.0:3456" in last("ENV"), "Dockerfile: OPENCLAW_HTTP__BIND=0.0.0.0:3456")
check(re.search(r'CMD \["[^"]*openclaw-bot", "healthcheck"\]', last("HEALTHCHECK")) is not None,
      "Dockerfile: HEALTHCHECK runs `openclaw-bot healthcheck` (exec form, no shell)")
check(re.search(r"install -d -m 0700 (\S+)/data\b", text) is not None
      and any(i.startswith(f"COPY --from=builder --chown={user}:") and i.endswith(" /")
              for i in final),
      "Dockerfile: /data is made 0700 and copied as an entry, owned by the USER")

# compose.yaml
compose = yaml.safe_load(open("deploy/compose.yaml"))
services = compose.get("services", {})
bot, caddy = services.get("bot", {}), services.get("caddy", {})
for name, service in services.items():
    check(service.get("restart") in ("unless-stopped", "always"), f"compose: {name} has a restart policy")
published = {name: service.get("ports", []) for name, service in services.items() if service.get("ports")}
check(list(published) == ["caddy"], "compose: only caddy publishes ports")
check(all(str(p).split(":")[-1].split("/")[0] == "443" and str(p).split(":")[0] == "443"
          for p in caddy.get("ports", [])), "compose: caddy publishes 443 only")
env = bot.get("environment", {})
proxy_ip = (caddy.get("networks") or {}).get("edge", {}).get("ipv4_address")
check(proxy_ip is not None, "compose: caddy has a fixed address on the edge network")
try:
    trusted = json.loads(env.get("OPENCLAW_RATE_LIMIT__TRUSTED_PROXIES", "null"))
except ValueError:
    trusted = None
check(trusted == [proxy_ip], "compose: the bot trusts exactly caddy's address")
check(env.get("OPENCLAW_RATE_LIMIT__CLIENT_IP_HEADER") == "x-forwarded-for",
      "compose: the bot reads the client address from x-forwarded-for")
subnets = [ipaddress.ip_network(c["subnet"]) for c in compose["networks"]["edge"]["ipam"]["config"]]
check(proxy_ip is not None and any(ipaddress.ip_address(proxy_ip) in s for s in subnets),
      "compose: caddy's address lies in the edge subnet")
check("bot-data:/data" in bot.get("volumes", []) and "bot-data" in compose.get("volumes", {}),
      "compose: the bot's /data is the named volume bot-data")
check(bot.get("env_file") == ".env" and "DISCORD_TOKEN" not in env,
      "compose: the Discord token comes from .env, not from compose.yaml")
check("./Caddyfile:/etc/caddy/Caddyfile:ro" in caddy.get("volumes", []),
      "compose: caddy reads deploy/Caddyfile")
check("build" in bot and bot.get("image", "").startswith("${OPENCLAW_IMAGE:-"),
      "compose: the bot is built here unless OPENCLAW_IMAGE names a published image")

# The image workflow: both architectures built natively, pushed to ghcr.io on a tag.
workflow = yaml.safe_load(open(".github/workflows/image.yml"))
# PyYAML reads the key `on` as True.
triggers = workflow.get("on", workflow.get(True, {}))
check(triggers.get("push", {}).get("tags") == ["v*"], "image workflow: runs on version tags")
platforms = [i["platform"] for i in workflow["jobs"]["build"]["strategy"]["matrix"]["include"]]
check(sorted(platforms) == ["linux/amd64", "linux/arm64"], "image workflow: amd64 and arm64")
check(workflow["env"]["IMAGE"].startswith("ghcr.io/"), "image workflow: pushes to ghcr.io")

# .env.example: only names the bot or compose reads.
for line in open("deploy/.env.example"):
    line = line.strip().lstrip("# ").strip()
    m = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
    if m:
        key = m.group(1)
        check(key in ("OPENCLAW_DOMAIN", "DISCORD_TOKEN", "OPENCLAW_IMAGE") or "__" in key,
              f".env.example: {key} is read by the bot or by compose")

for failure in failures:
    print(f"FAILED: {failure}")
sys.exit(1 if failures else 0)
PY
echo "deploy lint: ok"
