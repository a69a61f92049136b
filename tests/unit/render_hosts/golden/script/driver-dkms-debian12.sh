# step 1: "driver: NVIDIA driver 535 (dkms, proprietary modules)" (NvidiaDriver)
s1_probe() {
probe: probe auto 535.104.05 1 linux-headers- nvidia-driver nvidia-kernel-dkms firmware-misc-nonfree
}
s1_apply() {
nvidia_refuse_old 535.104.05
nvidia_require nvidia-driver 'enable Debian'"'"'s contrib non-free non-free-firmware components in the apt sources, or use gpu.driver.strategy cuda-repo'
nvidia_install linux-headers- nvidia-driver nvidia-kernel-dkms firmware-misc-nonfree
nvidia_blacklist_nouveau
nvidia_hold 535 '' nvidia-driver nvidia-kernel-dkms firmware-misc-nonfree
nvidia_reboot_required 'NVIDIA driver 535 installed'
}
s1_skip() {
nvidia_driver_skip auto 535.104.05 nvidia-driver nvidia-kernel-dkms firmware-misc-nonfree
}
guarded_step 1 '{"step": 1, "kind": "NvidiaDriver", "component": "driver", "title": "NVIDIA driver 535 (dkms, proprietary modules)"}' 'driver: NVIDIA driver 535 (dkms, proprietary modules)'
