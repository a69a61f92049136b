# step 1: "driver: NVIDIA driver 550 (ubuntu-signed, proprietary modules)" (NvidiaDriver)
s1_probe() {
probe: probe auto 550.54.15 1 linux-modules-nvidia-550-server- nvidia-headless-no-dkms-550-server nvidia-utils-550-server
}
s1_apply() {
nvidia_refuse_old 550.54.15
nvidia_install linux-modules-nvidia-550-server- nvidia-headless-no-dkms-550-server nvidia-utils-550-server
nvidia_blacklist_nouveau
nvidia_hold 550 linux-modules-nvidia-550-server- nvidia-headless-no-dkms-550-server nvidia-utils-550-server
nvidia_reboot_required 'NVIDIA driver 550 installed'
}
s1_skip() {
nvidia_driver_skip auto 550.54.15 nvidia-headless-no-dkms-550-server nvidia-utils-550-server
}
guarded_step 1 '{"step": 1, "kind": "NvidiaDriver", "component": "driver", "title": "NVIDIA driver 550 (ubuntu-signed, proprietary modules)"}' 'driver: NVIDIA driver 550 (ubuntu-signed, proprietary modules)'
