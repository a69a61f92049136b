# step 1: "users: authorized keys of alice" (AuthorizedKeys)
s1_probe() {
runuser -u alice -- sh -c 'd="$1/.ssh"; f="$1/.ssh/authorized_keys"; shift
[ -d "$d" ] && [ ! -L "$d" ] && [ -f "$f" ] && [ ! -L "$f" ] || exit 1
[ "$(stat -c %a:%u "$d")" = "700:$(id -u)" ] && [ "$(stat -c %a:%u "$f")" = "600:$(id -u)" ] || exit 1
for k in "$@"; do grep -qxF -- "$k" "$f" || exit 1; done
' probe /home/alice 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEfVmPFsNGXyRkvEoe8bTVVfRbHEx1cZUy9t2S2k2sQp alice@laptop'
}
s1_apply() {
runuser -u alice -- sh -c 'set -e
umask 077
d="$1/.ssh"; f="$1/.ssh/authorized_keys"; shift
for p in "$d" "$f"; do
  if [ -L "$p" ]; then echo "$p is a symbolic link; remove it, then apply again (nothing was changed)" >&2; exit 1; fi
done
mkdir -p -- "$d"
chmod 700 -- "$d"
touch -- "$f"
chmod 600 -- "$f"
if [ -s "$f" ] && [ -n "$(tail -c 1 -- "$f")" ]; then echo >>"$f"; fi
for k in "$@"; do grep -qxF -- "$k" "$f" || printf '"'"'%s\n'"'"' "$k" >>"$f"; done
' keys /home/alice 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEfVmPFsNGXyRkvEoe8bTVVfRbHEx1cZUy9t2S2k2sQp alice@laptop'
}
run_step 1 '{"step": 1, "kind": "AuthorizedKeys", "component": "users", "title": "authorized keys of alice"}' 'users: authorized keys of alice'
