# step 1: "driver: NVIDIA driver 550 (cuda-repo, proprietary modules)" (NvidiaDriver)
s1_probe() {
sh -c 'has_nvidia_gpu() {
  for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor" 2>/dev/null)" = 0x10de ] || continue
    case "$(cat "$d/class" 2>/dev/null)" in 0x0300*|0x0302*|0x0380*) return 0 ;; esac
  done
  return 1
}
running_driver() {
  nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1 | tr -d '"'"' '"'"' | grep -E '"'"'^[0-9]+([.][0-9]+)+$'"'"' || true
}
driver_at_least() {
  local v
  v="$(running_driver)"
  [ -n "$v" ] && [ "$(printf '"'"'%s\n%s\n'"'"' "$1" "$v" | sort -V | head -n 1)" = "$1" ]
}
installed() {
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
mode="$1"; floor="$2"; lock="$3"; prefix="$4"; shift 4
if [ "$mode" = auto ] && ! has_nvidia_gpu; then exit 0; fi
if driver_at_least "$floor"; then exit 0; fi
if [ -n "$prefix" ]; then set -- "$@" "$prefix$(uname -r)"; fi
if [ "$lock" = 1 ]; then held "$@"; else installed "$@"; fi
' probe auto 550.54.14 1 linux-headers- cuda-drivers-550
}
s1_apply() {
nvidia_refuse_old 550.54.14
pinned_repo https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/ /etc/apt/sources.list.d/toolkit-cuda.list 'deb [signed-by=/usr/share/keyrings/toolkit-cuda-archive.asc] https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/ /' https://developer.download.nvidia.com/compute/cuda/repos/debian12/x86_64/3bf863cc.pub EB693B3035CD5710E231E123A4B469963BF863CC /usr/share/keyrings/toolkit-cuda-archive.asc cuda-keyring
nvidia_install linux-headers- cuda-drivers-550
nvidia_blacklist_nouveau
nvidia_hold 550 '' cuda-drivers-550
nvidia_reboot_required 'NVIDIA driver 550 installed'
}
s1_skip() {
nvidia_driver_skip auto 550.54.14 cuda-drivers-550
}
guarded_step 1 '{"step": 1, "kind": "NvidiaDriver", "component": "driver", "title": "NVIDIA driver 550 (cuda-repo, proprietary modules)"}' 'driver: NVIDIA driver 550 (cuda-repo, proprietary modules)'
