# step 1: "mounts: mount /data" (Mount)
s1_probe() {
sh -c 'dev="$1"; path="$2"; fstype="$3"; opts="$4"; pass="$5"
source="$dev"; spec="$dev"
case "$fstype" in nfs|nfs4|tmpfs) ;; *)
  case "$dev" in
    /dev/*) source="$(readlink -f -- "$dev")" ;;
    *) source="$(findfs "$dev" 2>/dev/null)" || source="" ;;
  esac
  case "$dev" in /dev/*)
    u="$(blkid -p -s UUID -o value -- "$dev" 2>/dev/null)" || u=""
    [ -z "$u" ] || spec="UUID=$u" ;;
  esac ;;
esac
fstab_entry() { [ -e /etc/fstab ] && awk -v p="$path" '"'"'$1 !~ /^#/ && $2 == p { print $1, $2, $3, $4, $5, $6 }'"'"' /etc/fstab; }
mounted() { findmnt -rn --mountpoint "$path" -o SOURCE,FSTYPE 2>/dev/null | head -n 1; }
ours() { m="$(mounted)"; [ -n "$source" ] && { [ "$m" = "$source $fstype" ] || { [ "$fstype" = nfs ] && [ "$m" = "$source nfs4" ]; }; }; }
[ "$(fstab_entry)" = "$spec $path $fstype $opts 0 $pass" ] && ours
' probe UUID=0a1b2c3d-1111-2222-3333-444455556666 /data ext4 noatime,nofail 2
}
s1_apply() {
sh -c 'set -e
dev="$1"; path="$2"; fstype="$3"; opts="$4"; pass="$5"
source="$dev"; spec="$dev"
case "$fstype" in nfs|nfs4|tmpfs) ;; *)
  case "$dev" in
    /dev/*) source="$(readlink -f -- "$dev")" ;;
    *) source="$(findfs "$dev" 2>/dev/null)" || source="" ;;
  esac
  case "$dev" in /dev/*)
    u="$(blkid -p -s UUID -o value -- "$dev" 2>/dev/null)" || u=""
    [ -z "$u" ] || spec="UUID=$u" ;;
  esac ;;
esac
fstab_entry() { [ -e /etc/fstab ] && awk -v p="$path" '"'"'$1 !~ /^#/ && $2 == p { print $1, $2, $3, $4, $5, $6 }'"'"' /etc/fstab; }
mounted() { findmnt -rn --mountpoint "$path" -o SOURCE,FSTYPE 2>/dev/null | head -n 1; }
ours() { m="$(mounted)"; [ -n "$source" ] && { [ "$m" = "$source $fstype" ] || { [ "$fstype" = nfs ] && [ "$m" = "$source nfs4" ]; }; }; }
format="$6"; allow="$7"
say() { echo "$* (nothing was changed)" >&2; exit 1; }
case "$fstype" in nfs|nfs4|tmpfs) ;; *)
  [ -n "$source" ] || say "no device with $dev on this host"
  [ -b "$source" ] || say "$dev is not a block device on this host"
  if info="$(blkid -p -o export -- "$source")"; then rc=0; else rc=$?; fi
  if [ "$rc" = 2 ]; then
    [ "$format" = 1 ] || say "$dev is empty (blkid finds no file system): make one yourself," \
      "or set format: true for it in the profile and apply with --allow-format"
    [ "$allow" = 1 ] || say "$dev is empty and the profile formats it as $fstype:" \
      "apply with --allow-format to let toolkit run mkfs.$fstype on it"
    "mkfs.$fstype" "$source"
    u="$(blkid -p -s UUID -o value -- "$source")" || u=""
    case "$dev" in /dev/*) [ -z "$u" ] || spec="UUID=$u" ;; esac
  elif [ "$rc" = 0 ]; then
    type="$(printf '"'"'%s\n'"'"' "$info" | sed -n '"'"'s/^TYPE=//p'"'"')"
    [ "$type" = "$fstype" ] || say "$dev holds ${type:-a partition table or another signature}, not $fstype;" \
      "toolkit never formats a device that has anything on it: fix the profile, or wipe the device yourself"
  else
    say "blkid could not probe $dev (exit $rc)"
  fi
  elsewhere="$(findmnt -rn --source "$source" -o TARGET 2>/dev/null | grep -vxF -- "$path" | head -n 1)" || true
  [ -z "$elsewhere" ] || say "$dev is mounted at $elsewhere already" ;;
esac
[ ! -L "$path" ] || say "$path is a symbolic link"
[ ! -e "$path" ] || [ -d "$path" ] || say "$path exists and is not a folder"
now="$(mounted)"
if [ -n "$now" ] && ! ours; then say "$path has another file system mounted ($now); unmount it first"; fi
if [ -z "$now" ] && [ -d "$path" ] && [ -n "$(ls -A -- "$path")" ]; then
  say "$path is not empty: mounting there would hide its files; move them away or mount elsewhere"
fi
line="$spec $path $fstype $opts 0 $pass"
if [ "$(fstab_entry)" != "$line" ]; then
  [ -e /etc/fstab ] || : >/etc/fstab
  tmp="$(mktemp /etc/.fstab.toolkit.XXXXXX)"
  awk -v p="$path" '"'"'!($1 !~ /^#/ && $2 == p)'"'"' /etc/fstab >"$tmp"
  printf '"'"'%s\n'"'"' "$line" >>"$tmp"
  chmod 0644 "$tmp"
  cp -p /etc/fstab /etc/fstab.toolkit-backup
  mv -f "$tmp" /etc/fstab
fi
mkdir -p -- "$path"
if [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ]; then systemctl daemon-reload; fi
if [ -n "$now" ]; then mount -o remount -- "$path"; else mount -- "$path"; fi
' mount UUID=0a1b2c3d-1111-2222-3333-444455556666 /data ext4 noatime,nofail 2 0 "$TOOLKIT_ALLOW_FORMAT"
}
run_step 1 '{"step": 1, "kind": "Mount", "component": "mounts", "title": "mount /data"}' 'mounts: mount /data'
