# Shared by the benchmark scripts: the environments they push, a seeded project, a median
# printer. Sourced, not run.

# variables N: the benchmarks' environment of N variables (lines of about 50 bytes), on
# standard output.
variables() {
  awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++)
    printf "SECRET_KEY_%d=value-%d-0123456789abcdef0123456789abcdef\n", i, i }'
}

# In the current directory, a workspace of project `app` on remote URL with 20 environments
# of 1,000 variables each, every one pushed by BINARY (whose identity is the current
# HOME's); then an identity for teammate carol under WORK/carol. Prints carol's member key.
# Usage: seed_twenty_environments BINARY URL WORK
seed_twenty_environments() {
  local bin=$1 url=$2 work=$3 e
  { printf 'remote = "%s"\n\n[projects.app.environments]\n' "$url"
    for e in $(seq -w 0 19); do printf 'e%s = ".env.e%s"\n' "$e" "$e"; done; } > envsync.toml
  variables 1000 > "$work/vars"
  for e in $(seq -w 0 19); do
    cp "$work/vars" ".env.e$e"
    "$bin" push --env "e$e" >/dev/null 2>&1
  done
  HOME="$work/carol" XDG_CONFIG_HOME="$work/carol/.config" "$bin" keygen --name carol \
    >/dev/null 2>&1
  HOME="$work/carol" XDG_CONFIG_HOME="$work/carol/.config" "$bin" whoami 2>/dev/null
}

# Each BINARY's median, minimum and maximum of the "BINARY MICROSECONDS" lines in TIMES.
# Usage: print_medians TIMES BINARY…
print_medians() {
  local times=$1 bin
  shift
  for bin in "$@"; do
    grep -F "$bin " "$times" | awk '{print $2}' | sort -n | awk -v c="$bin" '
      { t[NR] = $1 } END { printf "%s: median %.1f ms, min %.1f, max %.1f (%d runs)\n",
        c, t[int((NR + 1) / 2)] / 1000, t[1] / 1000, t[NR] / 1000, NR }'
  done
}
