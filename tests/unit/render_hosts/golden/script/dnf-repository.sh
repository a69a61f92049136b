# step 1: "driver: NVIDIA container toolkit repository" (PackageRepository)
s1_probe() {
sh -c 'installed() {
  local p
  for p in "$@"; do
    { rpm -q --quiet -- "$p" || rpm -q --quiet --whatprovides -- "$p"; } || return 1
  done
}
held() {
  local p
  for p in "$@"; do
    dnf -q versionlock list 2>/dev/null | grep -q -- "^${p}-[0-9]" || return 1
  done
}
repo_configured() {
  grep -rsF --include='"'"'*.repo'"'"' --exclude="$(basename "$2")" -- "${1%/}" /etc/yum.repos.d/ \
    | grep -qv '"'"':[[:space:]]*#'"'"'
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
' probe https://nvidia.github.io/libnvidia-container/stable/rpm/ /etc/yum.repos.d/nvidia-container-toolkit.repo '[nvidia-container-toolkit]
name=nvidia-container-toolkit
baseurl=https://nvidia.github.io/libnvidia-container/stable/rpm/$basearch
enabled=1
gpgcheck=1
repo_gpgcheck=0
gpgkey=file:///etc/pki/rpm-gpg/nvidia-container-toolkit.asc
' /etc/pki/rpm-gpg/nvidia-container-toolkit.asc C95B321B61E88C1809C4F759DDCAE044F796ECB0
}
s1_apply() {
pinned_repo https://nvidia.github.io/libnvidia-container/stable/rpm/ /etc/yum.repos.d/nvidia-container-toolkit.repo '[nvidia-container-toolkit]
name=nvidia-container-toolkit
baseurl=https://nvidia.github.io/libnvidia-container/stable/rpm/$basearch
enabled=1
gpgcheck=1
repo_gpgcheck=0
gpgkey=file:///etc/pki/rpm-gpg/nvidia-container-toolkit.asc' https://nvidia.github.io/libnvidia-container/gpgkey C95B321B61E88C1809C4F759DDCAE044F796ECB0 /etc/pki/rpm-gpg/nvidia-container-toolkit.asc
}
run_step 1 '{"step": 1, "kind": "PackageRepository", "component": "driver", "title": "NVIDIA container toolkit repository"}' 'driver: NVIDIA container toolkit repository'
