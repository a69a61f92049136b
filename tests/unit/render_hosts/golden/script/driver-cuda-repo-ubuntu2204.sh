# step 1: "driver: NVIDIA driver 550 (cuda-repo, open modules)" (NvidiaDriver)
s1_probe() {
probe: probe auto 550.54.15 1 linux-headers- nvidia-open-550
}
s1_apply() {
nvidia_refuse_old 550.54.15
pinned_repo https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/ /etc/apt/sources.list.d/toolkit-cuda.list 'deb [signed-by=/usr/share/keyrings/toolkit-cuda-archive.asc] https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/ /' https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64/3bf863cc.pub EB693B3035CD5710E231E123A4B469963BF863CC /usr/share/keyrings/toolkit-cuda-archive.asc cuda-keyring
nvidia_install linux-headers- nvidia-open-550
nvidia_blacklist_nouveau
nvidia_hold 550 '' nvidia-open-550
nvidia_reboot_required 'NVIDIA driver 550 installed'
}
s1_skip() {
nvidia_driver_skip auto 550.54.15 nvidia-open-550
}
guarded_step 1 '{"step": 1, "kind": "NvidiaDriver", "component": "driver", "title": "NVIDIA driver 550 (cuda-repo, open modules)"}' 'driver: NVIDIA driver 550 (cuda-repo, open modules)'
