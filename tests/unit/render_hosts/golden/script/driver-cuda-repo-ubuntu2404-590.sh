# step 1: "driver: NVIDIA driver 590 (cuda-repo, open modules)" (NvidiaDriver)
s1_probe() {
probe: probe auto 560.35.05 1 linux-headers- nvidia-driver-pinning-590 nvidia-open
}
s1_apply() {
nvidia_refuse_old 560.35.05
pinned_repo https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/x86_64/ /etc/apt/sources.list.d/toolkit-cuda.list 'deb [signed-by=/usr/share/keyrings/toolkit-cuda-archive.asc] https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/x86_64/ /' https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2404/x86_64/3bf863cc.pub EB693B3035CD5710E231E123A4B469963BF863CC /usr/share/keyrings/toolkit-cuda-archive.asc cuda-keyring
nvidia_install linux-headers- nvidia-driver-pinning-590 nvidia-open
nvidia_blacklist_nouveau
nvidia_hold 590 '' nvidia-driver-pinning-590 nvidia-open
nvidia_reboot_required 'NVIDIA driver 590 installed'
}
s1_skip() {
nvidia_driver_skip auto 560.35.05 nvidia-driver-pinning-590 nvidia-open
}
guarded_step 1 '{"step": 1, "kind": "NvidiaDriver", "component": "driver", "title": "NVIDIA driver 590 (cuda-repo, open modules)"}' 'driver: NVIDIA driver 590 (cuda-repo, open modules)'
