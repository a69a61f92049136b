 (NVIDIA driver, Container Toolkit); only in scripts whose plan has them.
# The detection functions are the same text as the steps' own probes (toolkit/model/host_probes.py).
has_nvidia_gpu() {
  for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor" 2>/dev/null)" = 0x10de ] || continue
    case "$(cat "$d/class" 2>/dev/null)" in 0x0300*|0x0302*|0x0380*) return 0 ;; esac
  done
  return 1
}
running_driver() {
  nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -n 1 | tr -d ' ' | grep -E '^[0-9]+([.][0-9]+)+$' || true
}
driver_at_least() {
  local v
  v="$(running_driver)"
  [ -n "$v" ] && [ "$(printf '%s\n%s\n' "$1" "$v" | sort -V | head -n 1)" = "$1" ]
}
installed() {
  local p
  for p in "$@"; do
    case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" in
      "install ok installed"|"hold ok installed") ;;
      *) return 1 ;;
    esac
  done
}
held() {
  local p
  for p in "$@"; do
    [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "hold ok installed" ] || return 1
  done
}
kernel_meta() {
  local release flavour vid
  release="$(uname -r)"
  flavour="${release#*-*-}"
  vid="$(sed -n 's/^VERSION_ID=//p' /etc/os-release 2>/dev/null | tr -d '"')"
  if installed "linux-image-$flavour-hwe-$vid"; then flavour="$flavour-hwe-$vid"; fi
  echo "$flavour"
}
hold_list() {
  local branch="$1" prefix="$2" meta p
  shift 2
  {
    for p in "$@"; do echo "$p"; done
    dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "*nvidia*$branch*" 2>/dev/null | awk '$1 ~ /^[ih]i/ {print $2}'
    if [ -n "$prefix" ]; then
      meta="$(kernel_meta)"
      for p in "$prefix$(uname -r)" "$prefix$meta" "linux-$meta" "linux-image-$meta" "linux-headers-$meta"; do
        if installed "$p"; then echo "$p"; fi
      done
    fi
  } | sort -u
}

# guarded_step N JSON TEXT: sN_skip prints why and succeeds when the step has nothing to do on this
# host (no NVIDIA GPU, or a suitable driver already runs); otherwise run_step probes and applies it.
guarded_step() {
  local why
  if why="$("s$1_skip")"; then
    TOOLKIT_STEP="step $1/1: $3"
    TOOLKIT_STEP_JSON="$2"
    echo "$why  $TOOLKIT_STEP"
    TOOLKIT_UNCHANGED=$((TOOLKIT_UNCHANGED + 1))
    record skipped
  else
    run_step "$@"
  fi
}

# gpu_service_skip UNIT: a service only GPU hosts run (monitoring.gpu_exporter), on a host without one.
gpu_service_skip() {
  if ! has_nvidia_gpu; then
    echo "[skipped] no NVIDIA GPU ($1 not set up)"
    return 0
  fi
  return 1
}

# nvidia_skip MODE: no NVIDIA GPU on the PCI bus and MODE auto.
nvidia_skip() {
  if [ "$1" = auto ] && ! has_nvidia_gpu; then
    echo "[skipped] no NVIDIA GPU (driver steps skipped)"
    return 0
  fi
  return 1
}

# nvidia_driver_skip MODE FLOOR PACKAGE...: no GPU, or adopt a driver >= FLOOR that toolkit did not install.
nvidia_driver_skip() {
  local mode="$1" floor="$2" v
  shift 2
  nvidia_skip "$mode" && return 0
  v="$(running_driver)"
  if [ -n "$v" ] && driver_at_least "$floor" && ! installed "$@"; then
    echo "[ok] adopted the running NVIDIA driver $v (>= $floor; installed outside toolkit, left as it is)"
    return 0
  fi
  return 1
}

# nvidia_refuse_old FLOOR: an older driver runs and this plan did not install it: stop, say what to do.
nvidia_refuse_old() {
  local v
  v="$(running_driver)"
  if [ -n "$v" ]; then
    echo "NVIDIA driver $v is running, older than the $1 this profile needs. toolkit does not replace a driver" \
      "it did not install: upgrade it or remove its packages (apt-get purge), or set gpu.driver.install: never;" \
      "then run setup.sh again" >&2
    return 1
  fi
}

# nvidia_require PACKAGE HINT: fail with HINT unless apt knows PACKAGE (the lists are refreshed first).
nvidia_require() {
  apt_install ca-certificates >/dev/null
  if ! apt-cache show -- "$1" >/dev/null 2>&1; then
    echo "no package $1 in this host's apt sources: $2" >&2
    return 1
  fi
}

# nvidia_install KERNEL_PREFIX PACKAGE...: the packages, then KERNEL_PREFIX + the running kernel's release
# and + its flavour's metapackage suffix (so later kernels get theirs).
nvidia_install() {
  local prefix="$1" kernel
  shift
  kernel="$prefix$(uname -r)"
  nvidia_require "$kernel" "none for the running kernel $(uname -r): upgrade the kernel (apt-get dist-upgrade), reboot, run setup.sh again"
  apt_install "$@" "$kernel" "$prefix$(kernel_meta)"
}

nvidia_blacklist_nouveau() {
  local conf=/etc/modprobe.d/blacklist-nouveau.conf text
  text="$(printf 'blacklist nouveau\noptions nouveau modeset=0')"
  if [ "$(cat "$conf" 2>/dev/null || true)" != "$text" ]; then
    mkdir -p /etc/modprobe.d
    printf '%s\n' "$text" >"$conf"
    if command -v update-initramfs >/dev/null 2>&1; then update-initramfs -u
    elif command -v dracut >/dev/null 2>&1; then dracut --force; fi
  fi
}

# nvidia_hold BRANCH KERNEL_PREFIX PACKAGE...: hold what hold_list names.
nvidia_hold() {
  local hold=()
  mapfile -t hold < <(hold_list "$@")
  apt-mark hold "${hold[@]}"
  echo "  held: ${hold[*]} (to upgrade: apt-mark unhold them, upgrade, reboot)"
}

nvidia_reboot_required() {
  touch /var/run/reboot-required
  echo "[reboot-required] $1: reboot this host to load it (nvidia-smi works after the reboot)"
}

# nvidia_configure_docker: add the nvidia runtime to Docker. nvidia-ctk merges it into daemon.json
# (the user's other settings stay); the previous file is kept beside it first.
nvidia_configure_docker() {
  local conf=/etc/docker/daemon.json
  if ! command -v docker >/dev/null 2>&1; then
    echo "  Docker is not installed: once it is, run: nvidia-ctk runtime configure --runtime=docker"
    return 0
  fi
  if [ -e "$conf" ]; then cp -p -- "$conf" "$conf.toolkit-backup.$(date -u +%Y%m%dT%H%M%SZ)"; fi
  nvidia-ctk runtime configure --runtime=docker
  if systemd_running && systemctl is-active --quiet docker; then
    systemctl restart docker
  else
    echo "  Docker is not running: it uses the nvidia runtime from its next start"
  fi
}

