# step 1: "driver: NVIDIA driver 570 (dkms, open modules)" (NvidiaDriver)
s1_probe() {
probe: probe auto 560.35.05 0 linux-headers- nvidia-headless-570-server-open nvidia-utils-570-server
}
s1_apply() {
nvidia_refuse_old 560.35.05
nvidia_install linux-headers- nvidia-headless-570-server-open nvidia-utils-570-server
nvidia_blacklist_nouveau
nvidia_reboot_required 'NVIDIA driver 570 installed'
}
s1_skip() {
nvidia_driver_skip auto 560.35.05 nvidia-headless-570-server-open nvidia-utils-570-server
}
guarded_step 1 '{"step": 1, "kind": "NvidiaDriver", "component": "driver", "title": "NVIDIA driver 570 (dkms, open modules)"}' 'driver: NVIDIA driver 570 (dkms, open modules)'
