# step 1: "users: account bob" (Account)
s1_probe() {
sh -c 'name="$1"; uid="$2"; gid="$3"; home="$4"; shell="$5"; sudo="$6"; file="$7"; line="$8"; shift 8
[ "$(getent passwd "$name" | cut -d: -f3,4,6,7)" = "$uid:$gid:$home:$shell" ] || exit 1
ids=" $(id -nG "$name") "
for g in "$@"; do case "$ids" in *" $g "*) ;; *) exit 1 ;; esac; done
if [ "$sudo" = 1 ]; then
  [ "$(cat "$file" 2>/dev/null; echo x)" = "$(printf '"'"'%s\n'"'"' "$line"; echo x)" ] && [ "$(stat -c %a:%U "$file")" = 440:root ]
else
  [ ! -e "$file" ]
fi
' probe bob 2002 2002 /home/bob /usr/bin/zsh 0 /etc/sudoers.d/toolkit-bob 'bob ALL=(ALL:ALL) NOPASSWD: ALL'
}
s1_apply() {
sh -c 'set -e
name="$1"; uid="$2"; gid="$3"; home="$4"; shell="$5"; sudo="$6"; file="$7"; line="$8"; shift 8
holder="$(getent passwd "$uid" | cut -d: -f1)" || true
if [ -n "$holder" ] && [ "$holder" != "$name" ]; then
  echo "uid $uid already belongs to user $holder; choose another uid for $name in the profile (nothing was changed)" >&2; exit 1
fi
if entry="$(getent passwd "$name")"; then
  have="$(printf %s "$entry" | cut -d: -f3,4,6)"
  if [ "$have" != "$uid:$gid:$home" ]; then
    echo "user $name exists as uid:gid:home $have, not $uid:$gid:$home; fix it by hand or change the profile (nothing was changed)" >&2; exit 1
  fi
  [ "$(printf %s "$entry" | cut -d: -f7)" = "$shell" ] || usermod --shell "$shell" -- "$name"
else
  useradd --uid "$uid" --gid "$gid" --home-dir "$home" --create-home --shell "$shell" -- "$name"
fi
if [ $# -gt 0 ]; then
  list="$(printf '"'"'%s,'"'"' "$@")"
  usermod --append --groups "${list%,}" -- "$name"
fi
if [ "$sudo" = 1 ]; then
  tmp="$(mktemp "$(dirname -- "$file")/.toolkit.XXXXXX")"
  printf '"'"'%s\n'"'"' "$line" >"$tmp"
  chmod 0440 "$tmp"
  if ! visudo -cf "$tmp" >/dev/null; then
    rm -f -- "$tmp"; echo "visudo refused the sudo rule for $name (nothing was changed)" >&2; exit 1
  fi
  mv -f -- "$tmp" "$file"
else
  rm -f -- "$file"
fi
' account bob 2002 2002 /home/bob /usr/bin/zsh 0 /etc/sudoers.d/toolkit-bob 'bob ALL=(ALL:ALL) NOPASSWD: ALL'
}
run_step 1 '{"step": 1, "kind": "Account", "component": "users", "title": "account bob"}' 'users: account bob'
