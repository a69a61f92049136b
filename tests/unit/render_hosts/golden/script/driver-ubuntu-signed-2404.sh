# step 1: "driver: NVIDIA driver 570 (ubuntu-signed, open modules)" (NvidiaDriver)
s1_probe() {
probe: probe auto 560.35.05 1 linux-modules-nvidia-570-server-open- nvidia-headless-no-dkms-570-server-open nvidia-utils-570-server
}
s1_apply() {
nvidia_refuse_old 560.35.05
nvidia_install linux-modules-nvidia-570-server-open- nvidia-headless-no-dkms-570-server-open nvidia-utils-570-server
nvidia_blacklist_nouveau
nvidia_hold 570 linux-modules-nvidia-570-server-open- nvidia-headless-no-dkms-570-server-open nvidia-utils-570-server
nvidia_reboot_required 'NVIDIA driver 570 installed'
}
s1_skip() {
nvidia_driver_skip auto 560.35.05 nvidia-headless-no-dkms-570-server-open nvidia-utils-570-server
}
guarded_step 1 '{"step": 1, "kind": "NvidiaDriver", "component": "driver", "title": "NVIDIA driver 570 (ubuntu-signed, open modules)"}' 'driver: NVIDIA driver 570 (ubuntu-signed, open modules)'
