#!/usr/bin/env bash
# Plays two teammates, Alice and Bob, keeping a .env in sync through a shared folder.
# Everything happens in a temporary directory; nothing outside it is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet --bin envsync
envsync_bin="$PWD/target/release/envsync"

demo=$(mktemp -d)
trap 'rm -rf "$demo"' EXIT
mkdir -p "$demo/shared-folder" "$demo/alice/app" "$demo/bob" "$demo/home-alice" "$demo/home-bob"

# Each teammate has their own identity (HOME) and their own clone of the repository.
as() {
  local who=$1; shift
  local dir="$demo/$who/app"
  printf '\n\033[1m%s$ envsync %s\033[0m\n' "$who" "$*"
  (cd "$dir" && HOME="$demo/home-$who" XDG_CONFIG_HOME="$demo/home-$who/.config" ENVSYNC_NAME="$who@example.com" ENVSYNC_KEYCHAIN=off \
    "$envsync_bin" "$@") || echo "(exit $?)"
}
say() { printf '\n# %s\n' "$*"; }

say "Alice sets up the repository and publishes her .env"
printf '# database\nDATABASE_URL=postgres://localhost/app\nSTRIPE_KEY=sk_test_alice_123\n' > "$demo/alice/app/.env"
as alice init --remote ../../shared-folder --project app
as alice push -m "first version"

say "Bob clones the repository (envsync.toml is committed) and asks for access"
mkdir -p "$demo/bob/app" && cp "$demo/alice/app/envsync.toml" "$demo/bob/app/"
as bob pull

say "Alice sees Bob waiting and accepts him"
as alice status
as alice members accept "bob@example.com"
as bob pull
cat "$demo/bob/app/.env"

say "Both edit different keys at once; Bob pushes first, Alice syncs"
printf '# database\nDATABASE_URL=postgres://db.internal/app\nSTRIPE_KEY=sk_test_alice_123\n' > "$demo/bob/app/.env"
as bob push -m "point at the internal database"
printf '# database\nDATABASE_URL=postgres://localhost/app\nSTRIPE_KEY=sk_test_alice_123\n\n# mail\nSMTP_PASSWORD=hunter2-smtp\n' > "$demo/alice/app/.env"
as alice status
as alice sync -m "add smtp"
cat "$demo/alice/app/.env"
as bob pull
as bob log

say "The shared folder holds only ciphertext and signed records:"
if grep -rq -e sk_test_alice_123 -e hunter2-smtp "$demo/shared-folder"; then
  echo "plaintext found in the shared folder!" && exit 1
else
  echo "no secret value appears anywhere in $(find "$demo/shared-folder" -type f | wc -l) files"
fi
if command -v age >/dev/null; then
  say "…and each version is a plain age file: Bob decrypts the newest with the age CLI"
  newest=$(ls -t "$demo"/shared-folder/app/environments/development/objects/*.age | head -1)
  age -d -i "$demo/home-bob/.config/envsync/identity.txt" "$newest"
fi
