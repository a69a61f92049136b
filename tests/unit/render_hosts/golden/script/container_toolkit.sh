# step 1: "driver: NVIDIA Container Toolkit (Docker runtime)" (ContainerToolkit)
s1_probe() {
sh -c 'has_nvidia_gpu() {
  for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor" 2>/dev/null)" = 0x10de ] || continue
    case "$(cat "$d/class" 2>/dev/null)" in 0x0300*|0x0302*|0x0380*) return 0 ;; esac
  done
  return 1
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
mode="$1"; shift
if [ "$mode" = auto ] && ! has_nvidia_gpu; then exit 0; fi
installed "$@" || exit 1
if command -v docker >/dev/null 2>&1; then grep -q '"'"'"nvidia"'"'"' /etc/docker/daemon.json 2>/dev/null; fi
' probe auto nvidia-container-toolkit
}
s1_apply() {
pinned_repo https://nvidia.github.io/libnvidia-container/stable/deb/ /etc/apt/sources.list.d/nvidia-container-toolkit.list 'deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit.asc] https://nvidia.github.io/libnvidia-container/stable/deb/$(ARCH) /' https://nvidia.github.io/libnvidia-container/gpgkey C95B321B61E88C1809C4F759DDCAE044F796ECB0 /usr/share/keyrings/nvidia-container-toolkit.asc
apt_install nvidia-container-toolkit
nvidia_configure_docker
}
s1_skip() {
nvidia_skip auto
}
guarded_step 1 '{"step": 1, "kind": "ContainerToolkit", "component": "driver", "title": "NVIDIA Container Toolkit (Docker runtime)"}' 'driver: NVIDIA Container Toolkit (Docker runtime)'
