"""POSIX sh text for the host steps of `users:`, `directories:` and `mounts:` (Groups, Account,
AuthorizedKeys, Directory, Mount): their probes and the apply scripts setup.sh and the Ansible
playbook both run (``sh -c TEXT NAME ARGS...``), so the refusals (a uid held by someone else, a
symlink where a folder belongs, a device with a file system on it) are the same in both engines.
Every value reaches these scripts as a positional argument, never glued into the text.
"""

from __future__ import annotations

# groups: NAME GID pairs (GID 0: the host picks one). Done when each exists (with its gid when pinned).
GROUPS_PROBE = (
    'while [ $# -gt 1 ]; do\n'
    '  e="$(getent group "$1")" || exit 1\n'
    '  [ "$2" = 0 ] || [ "$(printf %s "$e" | cut -d: -f3)" = "$2" ] || exit 1\n'
    '  shift 2\n'
    'done\n')
GROUPS_APPLY = (
    'set -e\n'
    'while [ $# -gt 1 ]; do\n'
    '  name="$1"; gid="$2"; shift 2\n'
    '  if e="$(getent group "$name")"; then\n'
    '    have="$(printf %s "$e" | cut -d: -f3)"\n'
    '    if [ "$gid" != 0 ] && [ "$have" != "$gid" ]; then\n'
    '      echo "group $name exists with gid $have, not $gid; fix it by hand or change the profile (nothing was '
    'changed)" >&2; exit 1\n'
    '    fi\n'
    '    continue\n'
    '  fi\n'
    '  if [ "$gid" = 0 ]; then groupadd -- "$name"; continue; fi\n'
    '  holder="$(getent group "$gid" | cut -d: -f1)" || true\n'
    '  if [ -n "$holder" ]; then\n'
    '    echo "gid $gid already belongs to group $holder; choose another uid/gid for $name in the profile '
    '(nothing was changed)" >&2; exit 1\n'
    '  fi\n'
    '  groupadd --gid "$gid" -- "$name"\n'
    'done\n')

# account: NAME UID GID HOME SHELL SUDO(1/0) SUDOERS_FILE SUDOERS_LINE GROUP...
_ACCOUNT_ARGS = 'name="$1"; uid="$2"; gid="$3"; home="$4"; shell="$5"; sudo="$6"; file="$7"; line="$8"; shift 8\n'
ACCOUNT_PROBE = _ACCOUNT_ARGS + (
    '[ "$(getent passwd "$name" | cut -d: -f3,4,6,7)" = "$uid:$gid:$home:$shell" ] || exit 1\n'
    'ids=" $(id -nG "$name") "\n'
    'for g in "$@"; do case "$ids" in *" $g "*) ;; *) exit 1 ;; esac; done\n'
    'if [ "$sudo" = 1 ]; then\n'
    '  [ "$(cat "$file" 2>/dev/null; echo x)" = "$(printf \'%s\\n\' "$line"; echo x)" ] '
    '&& [ "$(stat -c %a:%U "$file")" = 440:root ]\n'
    'else\n'
    '  [ ! -e "$file" ]\n'
    'fi\n')
ACCOUNT_APPLY = 'set -e\n' + _ACCOUNT_ARGS + (
    'holder="$(getent passwd "$uid" | cut -d: -f1)" || true\n'
    'if [ -n "$holder" ] && [ "$holder" != "$name" ]; then\n'
    '  echo "uid $uid already belongs to user $holder; choose another uid for $name in the profile (nothing was '
    'changed)" >&2; exit 1\n'
    'fi\n'
    'if entry="$(getent passwd "$name")"; then\n'
    '  have="$(printf %s "$entry" | cut -d: -f3,4,6)"\n'
    '  if [ "$have" != "$uid:$gid:$home" ]; then\n'
    '    echo "user $name exists as uid:gid:home $have, not $uid:$gid:$home; fix it by hand or change the profile '
    '(nothing was changed)" >&2; exit 1\n'
    '  fi\n'
    '  [ "$(printf %s "$entry" | cut -d: -f7)" = "$shell" ] || usermod --shell "$shell" -- "$name"\n'
    'else\n'
    '  useradd --uid "$uid" --gid "$gid" --home-dir "$home" --create-home --shell "$shell" -- "$name"\n'
    'fi\n'
    'if [ $# -gt 0 ]; then\n'
    '  list="$(printf \'%s,\' "$@")"\n'
    '  usermod --append --groups "${list%,}" -- "$name"\n'
    'fi\n'
    'if [ "$sudo" = 1 ]; then\n'
    '  tmp="$(mktemp "$(dirname -- "$file")/.toolkit.XXXXXX")"\n'     # sudo skips names with a dot
    '  printf \'%s\\n\' "$line" >"$tmp"\n'
    '  chmod 0440 "$tmp"\n'
    '  if ! visudo -cf "$tmp" >/dev/null; then\n'
    '    rm -f -- "$tmp"; echo "visudo refused the sudo rule for $name (nothing was changed)" >&2; exit 1\n'
    '  fi\n'
    '  mv -f -- "$tmp" "$file"\n'
    'else\n'
    '  rm -f -- "$file"\n'
    'fi\n')

# authorized keys, run as the account itself (runuser -u NAME): HOME KEY_LINE...
_KEYS_ARGS = 'd="$1/.ssh"; f="$1/.ssh/authorized_keys"; shift\n'
KEYS_PROBE = _KEYS_ARGS + (
    '[ -d "$d" ] && [ ! -L "$d" ] && [ -f "$f" ] && [ ! -L "$f" ] || exit 1\n'
    '[ "$(stat -c %a:%u "$d")" = "700:$(id -u)" ] && [ "$(stat -c %a:%u "$f")" = "600:$(id -u)" ] || exit 1\n'
    'for k in "$@"; do grep -qxF -- "$k" "$f" || exit 1; done\n')
KEYS_APPLY = 'set -e\numask 077\n' + _KEYS_ARGS + (
    'for p in "$d" "$f"; do\n'
    '  if [ -L "$p" ]; then echo "$p is a symbolic link; remove it, then apply again (nothing was changed)" >&2; '
    'exit 1; fi\n'
    'done\n'
    'mkdir -p -- "$d"\n'
    'chmod 700 -- "$d"\n'
    'touch -- "$f"\n'
    'chmod 600 -- "$f"\n'
    'if [ -s "$f" ] && [ -n "$(tail -c 1 -- "$f")" ]; then echo >>"$f"; fi\n'
    'for k in "$@"; do grep -qxF -- "$k" "$f" || printf \'%s\\n\' "$k" >>"$f"; done\n')

# directory: PATH OWNER GROUP MODE (probe: PATH OWNER:GROUP:MODE as stat prints it)
DIRECTORY_PROBE = '[ -d "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %U:%G:%a -- "$1")" = "$2" ]\n'
DIRECTORY_APPLY = (
    'set -e\n'
    'if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then\n'
    '  echo "$1 exists and is not a folder (a symbolic link or a file); move it away, then apply again" >&2; exit 1\n'
    'fi\n'
    'mkdir -p -- "$1"\n'
    'chown -- "$2:$3" "$1"\n'
    'chmod -- "$4" "$1"\n')

# mount: DEVICE PATH FSTYPE OPTIONS PASSNO [FORMAT ALLOW_FORMAT]. `source` is what findmnt shows as the
# mounted source, `spec` what fstab names (a /dev/ path is written as its UUID).
_MOUNT_SOURCE = (
    'dev="$1"; path="$2"; fstype="$3"; opts="$4"; pass="$5"\n'
    'source="$dev"; spec="$dev"\n'
    'case "$fstype" in nfs|nfs4|tmpfs) ;; *)\n'
    '  case "$dev" in\n'
    '    /dev/*) source="$(readlink -f -- "$dev")" ;;\n'
    '    *) source="$(findfs "$dev" 2>/dev/null)" || source="" ;;\n'
    '  esac\n'
    '  case "$dev" in /dev/*)\n'
    '    u="$(blkid -p -s UUID -o value -- "$dev" 2>/dev/null)" || u=""\n'
    '    [ -z "$u" ] || spec="UUID=$u" ;;\n'
    '  esac ;;\n'
    'esac\n'
    'fstab_entry() { [ -e /etc/fstab ] && awk -v p="$path" \'$1 !~ /^#/ && $2 == p '
    '{ print $1, $2, $3, $4, $5, $6 }\' /etc/fstab; }\n'
    'mounted() { findmnt -rn --mountpoint "$path" -o SOURCE,FSTYPE 2>/dev/null | head -n 1; }\n'
    'ours() { m="$(mounted)"; [ -n "$source" ] && { [ "$m" = "$source $fstype" ] || '
    '{ [ "$fstype" = nfs ] && [ "$m" = "$source nfs4" ]; }; }; }\n')
MOUNT_PROBE = _MOUNT_SOURCE + '[ "$(fstab_entry)" = "$spec $path $fstype $opts 0 $pass" ] && ours\n'
MOUNT_APPLY = 'set -e\n' + _MOUNT_SOURCE + (
    'format="$6"; allow="$7"\n'
    'say() { echo "$* (nothing was changed)" >&2; exit 1; }\n'
    'case "$fstype" in nfs|nfs4|tmpfs) ;; *)\n'
    '  [ -n "$source" ] || say "no device with $dev on this host"\n'
    '  [ -b "$source" ] || say "$dev is not a block device on this host"\n'
    '  if info="$(blkid -p -o export -- "$source")"; then rc=0; else rc=$?; fi\n'
    '  if [ "$rc" = 2 ]; then\n'
    '    [ "$format" = 1 ] || say "$dev is empty (blkid finds no file system): make one yourself," \\\n'
    '      "or set format: true for it in the profile and apply with --allow-format"\n'
    '    [ "$allow" = 1 ] || say "$dev is empty and the profile formats it as $fstype:" \\\n'
    '      "apply with --allow-format to let toolkit run mkfs.$fstype on it"\n'
    '    "mkfs.$fstype" "$source"\n'
    '    u="$(blkid -p -s UUID -o value -- "$source")" || u=""\n'
    '    case "$dev" in /dev/*) [ -z "$u" ] || spec="UUID=$u" ;; esac\n'
    '  elif [ "$rc" = 0 ]; then\n'
    '    type="$(printf \'%s\\n\' "$info" | sed -n \'s/^TYPE=//p\')"\n'
    '    [ "$type" = "$fstype" ] || say "$dev holds ${type:-a partition table or another signature}, not $fstype;" \\\n'
    '      "toolkit never formats a device that has anything on it: fix the profile, or wipe the device yourself"\n'
    '  else\n'
    '    say "blkid could not probe $dev (exit $rc)"\n'
    '  fi\n'
    '  elsewhere="$(findmnt -rn --source "$source" -o TARGET 2>/dev/null | grep -vxF -- "$path" | head -n 1)" || true\n'
    '  [ -z "$elsewhere" ] || say "$dev is mounted at $elsewhere already" ;;\n'
    'esac\n'
    '[ ! -L "$path" ] || say "$path is a symbolic link"\n'
    '[ ! -e "$path" ] || [ -d "$path" ] || say "$path exists and is not a folder"\n'
    'now="$(mounted)"\n'
    'if [ -n "$now" ] && ! ours; then say "$path has another file system mounted ($now); unmount it first"; fi\n'
    'if [ -z "$now" ] && [ -d "$path" ] && [ -n "$(ls -A -- "$path")" ]; then\n'
    '  say "$path is not empty: mounting there would hide its files; move them away or mount elsewhere"\n'
    'fi\n'
    'line="$spec $path $fstype $opts 0 $pass"\n'
    'if [ "$(fstab_entry)" != "$line" ]; then\n'
    '  [ -e /etc/fstab ] || : >/etc/fstab\n'
    '  tmp="$(mktemp /etc/.fstab.toolkit.XXXXXX)"\n'
    '  awk -v p="$path" \'!($1 !~ /^#/ && $2 == p)\' /etc/fstab >"$tmp"\n'
    '  printf \'%s\\n\' "$line" >>"$tmp"\n'
    '  chmod 0644 "$tmp"\n'
    '  cp -p /etc/fstab /etc/fstab.toolkit-backup\n'
    '  mv -f "$tmp" /etc/fstab\n'
    'fi\n'
    'mkdir -p -- "$path"\n'
    'if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then systemctl daemon-reload; fi\n'
    'if [ -n "$now" ]; then mount -o remount -- "$path"; else mount -- "$path"; fi\n')


def octal(mode: str) -> str:
    """A mode as `stat -c %a` prints it ("0755" -> "755", "2775" -> "2775"); other text as it is."""
    try:
        return f"{int(mode, 8):o}"
    except ValueError:
        return mode
