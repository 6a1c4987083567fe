#!/usr/bin/env bash
# Install the Prometheus / Alertmanager tools sloforge validates its output with.
#
#   scripts/install-tools.sh [--current] [--dry-run] [--help]
#
# 1. If promtool, prometheus, amtool or alertmanager is missing, install Debian's
#    `prometheus` and `prometheus-alertmanager` packages (bookworm: Prometheus 2.42,
#    Alertmanager 0.25). Debian names the server binary `prometheus-alertmanager`;
#    it counts as `alertmanager`. $PROMTOOL, $PROMETHEUS, $AMTOOL and $ALERTMANAGER,
#    when they point to executables, count as present. The packages' postinst would
#    start the services: where no /usr/sbin/policy-rc.d forbids that, a temporary
#    one (exit 101) does so while apt runs, and is removed afterwards.
# 1b. If chromium is missing, install Debian's `chromium` (tests open the HTML of
#    `sloforge report` in it headless); on failure it warns and goes on.
# 2. With --current (or SLOFORGE_CURRENT_TOOLS=1), also put the current releases
#    (Prometheus 3.x, Alertmanager 0.2x/0.3x) from Debian unstable into
#    <repo>/tools/current/bin/{promtool,prometheus,amtool,alertmanager}. The .debs
#    are fetched with `apt-get download` against a throw-away source list and list
#    directory, then unpacked with `dpkg-deb -x`: nothing is installed and the
#    system's apt configuration is not changed. This step is optional: on failure it
#    warns and the script still exits 0. It is skipped when tools/current already
#    holds the versions unstable offers. Debian's alertmanager binary reads its
#    default notification templates from /usr/share/prometheus/alertmanager/ (the
#    system's 0.25 ones); the matching ones are kept in tools/current/share/alertmanager/.
# 3. Print which tools will be used, with their versions.
#
# --dry-run prints the commands that would change something instead of running them.
# Quiet unless it installs, downloads or fails; idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CURRENT_DIR="$ROOT/tools/current"

want_current=0
dry_run=0
[[ "${SLOFORGE_CURRENT_TOOLS:-0}" == 1 ]] && want_current=1
for arg in "$@"; do
  case "$arg" in
    --current) want_current=1 ;;
    --dry-run) dry_run=1 ;;
    -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) echo "install-tools: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

say()  { echo "install-tools: $*"; }
warn() { echo "install-tools: WARNING: $*" >&2; }
die()  { echo "install-tools: ERROR: $*" >&2; exit 1; }

SUDO=()
if [[ "$(id -u)" != 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo); fi
fi

# Run a command as root (via sudo when needed); in --dry-run only print it.
as_root() {
  if (( dry_run )); then echo "+ ${SUDO[*]:+${SUDO[*]} }$*"; return 0; fi
  if [[ "$(id -u)" != 0 && ${#SUDO[@]} -eq 0 ]]; then
    die "need root (or sudo) to run: $*"
  fi
  "${SUDO[@]}" "$@"
}

# Print the path of tool $1 (env var $2 first, then PATH names $3...), or fail.
find_tool() {
  local var="$2" name path
  path="${!var:-}"
  if [[ -n "$path" && -x "$path" && ! -d "$path" ]]; then echo "$path"; return 0; fi
  shift 2
  for name in "$@"; do
    if path="$(command -v "$name" 2>/dev/null)" && [[ -x "$path" ]]; then
      echo "$path"; return 0
    fi
  done
  return 1
}
find_promtool()     { find_tool promtool PROMTOOL promtool; }
find_prometheus()   { find_tool prometheus PROMETHEUS prometheus; }
find_amtool()       { find_tool amtool AMTOOL amtool; }
find_alertmanager() { find_tool alertmanager ALERTMANAGER alertmanager prometheus-alertmanager; }

# "promtool, version 2.42.0+ds (branch: ...)" -> "2.42.0+ds"
tool_version() {
  local out
  out="$("$1" --version 2>&1 | head -n1)" || true
  out="${out#*version }"
  echo "${out%% *}"
}

# ---------------------------------------------------------------- step 1: stable
install_stable() {
  local missing=() t
  for t in promtool prometheus amtool alertmanager; do
    "find_$t" >/dev/null || missing+=("$t")
  done
  (( ${#missing[@]} == 0 )) && return 0

  say "missing ${missing[*]}: installing Debian packages prometheus, prometheus-alertmanager"
  # The packages' postinst scripts call invoke-rc.d to start the services. Without a
  # policy-rc.d that would start daemons on :9090/:9093 (or fail the install where
  # no init system works), so forbid service starts while we install.
  local made_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d'
    made_policy=1
    (( dry_run )) || trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Use-Pty=0 prometheus prometheus-alertmanager
  if (( made_policy )); then
    as_root rm -f /usr/sbin/policy-rc.d
    (( dry_run )) || trap - EXIT
  fi
  (( dry_run )) && return 0
  for t in "${missing[@]}"; do
    "find_$t" >/dev/null || die "$t still missing after installing the Debian packages"
  done
}

# ------------------------------------------------------- step 2: current (unstable)
# Debian mirror of this machine: first `deb` entry whose suite is the release's
# codename; SLOFORGE_DEBIAN_MIRROR overrides; deb.debian.org otherwise.
debian_mirror() {
  if [[ -n "${SLOFORGE_DEBIAN_MIRROR:-}" ]]; then echo "$SLOFORGE_DEBIAN_MIRROR"; return; fi
  local codename="" f uri=""
  codename="$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")" || true
  codename="${codename:-bookworm}"
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] || continue
    # deb822: paragraphs separated by blank lines.
    uri="$(awk -v cn="$codename" '
      function flush() { if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " cn " ") && uris != "" && !found) { split(uris, u, " "); print u[1]; found = 1 } types = suites = uris = "" }
      /^[[:space:]]*#/ { next }
      /^[[:space:]]*$/ { flush(); next }
      tolower($1) == "types:"  { $1 = ""; types = $0 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      tolower($1) == "uris:"   { $1 = ""; uris = $0; sub(/^ +/, "", uris) }
      END { flush() }' "$f")"
    [[ -n "$uri" ]] && { echo "$uri"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r "$f" ]] || continue
    uri="$(awk -v cn="$codename" '
      $1 != "deb" { next }
      { i = 2; if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ } }
      $(i + 1) == cn { print $i; exit }' "$f")"
    [[ -n "$uri" ]] && { echo "$uri"; return; }
  done
  echo "http://deb.debian.org/debian"
}

fetch_current() {
  local start=$SECONDS mirror keyring="" tmp arch
  local pkgs=(promtool prometheus prometheus-alertmanager)
  for cmd in apt-get apt-cache dpkg-deb ldd; do
    command -v "$cmd" >/dev/null || { echo "$cmd not found" >&2; return 1; }
  done
  mirror="$(debian_mirror)"
  if [[ -r /usr/share/keyrings/debian-archive-keyring.gpg ]]; then
    keyring=/usr/share/keyrings/debian-archive-keyring.gpg
  fi
  arch="$(dpkg --print-architecture)"

  tmp="$(mktemp -d "${TMPDIR:-/tmp}/sloforge-tools.XXXXXX")"
  # shellcheck disable=SC2064
  trap "rm -rf '$tmp'" EXIT
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs" "$tmp/x"
  {
    echo "Types: deb"
    echo "URIs: $mirror"
    echo "Suites: unstable"
    echo "Components: main"
    echo "Architectures: $arch"
    [[ -n "$keyring" ]] && echo "Signed-By: $keyring"
  } > "$tmp/unstable.sources"
  # Only this file as source list, lists and caches in $tmp: the system's apt state
  # and configuration stay untouched; no root needed.
  local apt_opts=(
    -o "Dir::Etc::sourcelist=$tmp/unstable.sources"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::State::Lists=$tmp/lists"
    -o "Dir::Cache=$tmp/cache"
    -o "APT::Sandbox::User=$(id -un)"
    -o "Acquire::Retries=3"
  )
  if (( dry_run )); then
    echo "+ apt-get ${apt_opts[*]} update   # source: $mirror unstable main"
    echo "+ apt-get ${apt_opts[*]} download ${pkgs[*]}; dpkg-deb -x; copy into $CURRENT_DIR/bin"
    return 0
  fi
  # apt-get update exits 0 when a fetch fails: check that an index arrived too.
  if ! apt-get "${apt_opts[@]}" -qq --error-on=any update > "$tmp/update.log" 2>&1 \
      || ! compgen -G "$tmp/lists/*_Packages*" >/dev/null; then
    cat "$tmp/update.log" >&2
    echo "apt-get update of $mirror unstable failed" >&2
    return 1
  fi

  # Up to date already?
  local want="" p v
  for p in "${pkgs[@]}"; do
    v="$(apt-cache "${apt_opts[@]}" policy "$p" 2>/dev/null | awk '$1 == "Candidate:" { print $2 }')"
    [[ -n "$v" && "$v" != "(none)" ]] || { echo "package $p not found in unstable" >&2; return 1; }
    want+="$p=$v"$'\n'
  done
  if [[ -f "$CURRENT_DIR/VERSIONS" && "$(cat "$CURRENT_DIR/VERSIONS")"$'\n' == "$want" ]] \
      && verify_current "$CURRENT_DIR/bin" >/dev/null 2>&1; then
    return 0
  fi

  say "fetching current Prometheus/Alertmanager from Debian unstable ($mirror)"
  (cd "$tmp/debs" && apt-get "${apt_opts[@]}" -qq download "${pkgs[@]}" > "$tmp/download.log" 2>&1) \
    || { cat "$tmp/download.log" >&2; echo "apt-get download failed" >&2; return 1; }
  local deb
  for deb in "$tmp"/debs/*.deb; do
    dpkg-deb -x "$deb" "$tmp/x"
  done

  # Stage next to the target, then swap, so a failure never leaves a half tree.
  mkdir -p "$ROOT/tools"
  local stage="$ROOT/tools/.current.new"
  rm -rf "$stage"
  mkdir -p "$stage/bin" "$stage/share/alertmanager"
  install -m 0755 "$tmp/x/usr/bin/promtool"     "$stage/bin/promtool"
  install -m 0755 "$tmp/x/usr/bin/prometheus"   "$stage/bin/prometheus"
  install -m 0755 "$tmp/x/usr/bin/amtool"       "$stage/bin/amtool"
  install -m 0755 "$tmp/x/usr/bin/prometheus-alertmanager" "$stage/bin/alertmanager"
  # Debian's alertmanager reads its default notification templates from
  # /usr/share/prometheus/alertmanager/ (the system's, i.e. 0.25's, version), not
  # from the binary. Keep the matching ones here for configs that need them.
  cp "$tmp"/x/usr/share/prometheus/alertmanager/*.tmpl "$stage/share/alertmanager/" 2>/dev/null || true
  printf '%s' "$want" > "$stage/VERSIONS"
  if ! verify_current "$stage/bin" >&2; then rm -rf "$stage"; return 1; fi
  rm -rf "$CURRENT_DIR"
  mv "$stage" "$CURRENT_DIR"
  say "installed $(tr '\n' ' ' < "$CURRENT_DIR/VERSIONS")into tools/current/bin in $((SECONDS - start))s"
}

# The binaries must run here: only libc may be linked (Go), nothing unresolved,
# and Prometheus must be 3.x.
verify_current() {
  local bin="$1" b ld v
  for b in promtool prometheus amtool alertmanager; do
    [[ -x "$bin/$b" ]] || { echo "$bin/$b missing"; return 1; }
    if ld="$(ldd "$bin/$b" 2>&1)"; then
      if grep -q 'not found' <<<"$ld"; then echo "$b: unresolved libraries:"; echo "$ld"; return 1; fi
    fi  # ldd fails on static binaries: fine
    v="$(tool_version "$bin/$b")"
    [[ "$v" =~ ^[0-9]+\.[0-9]+ ]] || { echo "$b does not run: $("$bin/$b" --version 2>&1 | head -n3)"; return 1; }
  done
  v="$(tool_version "$bin/promtool")"
  [[ "$v" == 3.* ]] || { echo "promtool is $v, expected 3.x"; return 1; }
  v="$(tool_version "$bin/prometheus")"
  [[ "$v" == 3.* ]] || { echo "prometheus is $v, expected 3.x"; return 1; }
}

# ------------------------------------------------------- step 1b: a headless browser
# `sloforge report` writes HTML; tests/test_live.py opens it in Debian's chromium.
# Optional: a failure warns, and that test then skips naming what is missing.
install_browser() {
  command -v chromium >/dev/null 2>&1 && return 0
  command -v apt-get >/dev/null 2>&1 || { warn "no apt-get: install chromium to test reports"; return 0; }
  say "chromium missing: installing Debian's chromium (headless checks of sloforge report)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Use-Pty=0 chromium || warn "could not install chromium; report rendering tests will skip"
}

# ------------------------------------------------------------------------ main
install_stable
install_browser

if (( want_current )); then
  set +e
  (set -e; fetch_current)
  rc=$?
  set -e
  if (( rc != 0 )); then
    if [[ -d "$CURRENT_DIR/bin" ]]; then
      warn "could not update tools/current (see above); keeping the tools it has"
    else
      warn "could not fetch the current 3.x tools into tools/current (see above); continuing with Debian's stable tools"
    fi
  fi
fi

report() {
  local label="$1" path="$2"
  if [[ -n "$path" && -x "$path" ]]; then
    printf '%-24s %s (%s)\n' "$label:" "$path" "$(tool_version "$path")"
  else
    printf '%-24s %s\n' "$label:" "(not found)"
  fi
}
for t in promtool amtool prometheus alertmanager; do
  report "$t" "$("find_$t" || true)"
done
printf '%-24s %s\n' "chromium:" "$(command -v chromium || echo '(not found)')"
if [[ -d "$CURRENT_DIR/bin" ]]; then
  for t in promtool amtool prometheus alertmanager; do
    report "$t (current)" "$CURRENT_DIR/bin/$t"
  done
fi
exit 0
