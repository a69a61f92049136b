# step 1: "users: groups of the accounts" (Groups)
s1_probe() {
sh -c 'while [ $# -gt 1 ]; do
  e="$(getent group "$1")" || exit 1
  [ "$2" = 0 ] || [ "$(printf %s "$e" | cut -d: -f3)" = "$2" ] || exit 1
  shift 2
done
' probe alice 2001 gpu 0
}
s1_apply() {
sh -c 'set -e
while [ $# -gt 1 ]; do
  name="$1"; gid="$2"; shift 2
  if e="$(getent group "$name")"; then
    have="$(printf %s "$e" | cut -d: -f3)"
    if [ "$gid" != 0 ] && [ "$have" != "$gid" ]; then
      echo "group $name exists with gid $have, not $gid; fix it by hand or change the profile (nothing was changed)" >&2; exit 1
    fi
    continue
  fi
  if [ "$gid" = 0 ]; then groupadd -- "$name"; continue; fi
  holder="$(getent group "$gid" | cut -d: -f1)" || true
  if [ -n "$holder" ]; then
    echo "gid $gid already belongs to group $holder; choose another uid/gid for $name in the profile (nothing was changed)" >&2; exit 1
  fi
  groupadd --gid "$gid" -- "$name"
done
' groups alice 2001 gpu 0
}
run_step 1 '{"step": 1, "kind": "Groups", "component": "users", "title": "groups of the accounts"}' 'users: groups of the accounts'
