# step 1: "monitoring: NVIDIA DCGM repository" (PackageRepository)
s1_probe() {
sh -c 'installed() {
  local p
  for p in "$@"; do
    case "$(dpkg-query -W -f='"'"'${Status}'"'"' "$p" 2>/dev/null)" in
      "install ok installed"|"hold ok installed") ;;
      *) return 1 ;;
    esac
  done
}
held() {
  local p
  for p in "$@"; do
    [ "$(dpkg-query -W -f='"'"'${Status}'"'"' "$p" 2>/dev/null)" = "hold ok installed" ] || return 1
  done
}
repo_configured() {
  grep -rsF --include='"'"'*.list'"'"' --include='"'"'*.sources'"'"' --exclude="$(basename "$2")" -- "${1%/}" \
    /etc/apt/sources.list /etc/apt/sources.list.d/ | grep -qv '"'"':[[:space:]]*#'"'"'
}
repo_present() {
  local url="$1" own="$2" p
  shift 2
  for p in "$@"; do if installed "$p"; then return 0; fi; done
  repo_configured "$url" "$own"
}
key_is() {
  local home got
  home="$(mktemp -d)"
  got="$(GNUPGHOME="$home" gpg --batch --quiet --with-colons --show-keys "$1" 2>/dev/null |
    awk -F: '"'"'$1 == "pub" { p = 1; next } p && $1 == "fpr" { printf "%s%s", s, $10; s = " " } { p = 0 }'"'"')"
  rm -rf -- "$home"
  if [ "$got" = "$2" ]; then return 0; fi
  echo "$1 holds the primary key(s) ${got:-none}, not the pinned $2: not trusted" >&2
  return 1
}
url="$1"; file="$2"; line="$3"; key="$4"; fpr="$5"; shift 5
if repo_present "$url" "$file" "$@"; then exit 0; fi
[ "$(cat "$file" 2>/dev/null; echo x)" = "$(printf '"'"'%s'"'"' "$line"; echo x)" ] && key_is "$key" "$fpr" 2>/dev/null
' probe https://example.com/dcgm/ubuntu2204/ /etc/apt/sources.list.d/toolkit-dcgm.list 'deb [signed-by=/usr/share/keyrings/toolkit-dcgm.asc] https://example.com/dcgm/ubuntu2204/ stable main contrib
' /usr/share/keyrings/toolkit-dcgm.asc 0123456789ABCDEF0123456789ABCDEF01234567
}
s1_apply() {
pinned_repo https://example.com/dcgm/ubuntu2204/ /etc/apt/sources.list.d/toolkit-dcgm.list 'deb [signed-by=/usr/share/keyrings/toolkit-dcgm.asc] https://example.com/dcgm/ubuntu2204/ stable main contrib' https://example.com/dcgm/key.asc 0123456789ABCDEF0123456789ABCDEF01234567 /usr/share/keyrings/toolkit-dcgm.asc
}
run_step 1 '{"step": 1, "kind": "PackageRepository", "component": "monitoring", "title": "NVIDIA DCGM repository"}' 'monitoring: NVIDIA DCGM repository'
