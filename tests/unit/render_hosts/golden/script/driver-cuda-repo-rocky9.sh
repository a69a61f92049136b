# step 1: "driver: NVIDIA driver 560 (cuda-repo, open modules)" (NvidiaDriver)
s1_probe() {
probe: probe auto 560.35.05 1 kernel-devel- nvidia-driver nvidia-driver-cuda
}
s1_apply() {
nvidia_refuse_old 560.35.05
pinned_repo https://developer.download.nvidia.com/compute/cuda/repos/rhel9/x86_64/ /etc/yum.repos.d/toolkit-cuda.repo '[toolkit-cuda]
name=toolkit-cuda
baseurl=https://developer.download.nvidia.com/compute/cuda/repos/rhel9/x86_64/
enabled=1
gpgcheck=1
repo_gpgcheck=0
gpgkey=file:///etc/pki/rpm-gpg/toolkit-cuda-archive.asc' https://developer.download.nvidia.com/compute/cuda/repos/rhel9/x86_64/D42D0685.pub 610C7B14E068A878070DA4E99CD0A493D42D0685 /etc/pki/rpm-gpg/toolkit-cuda-archive.asc
nvidia_module_stream 560-open
nvidia_install kernel-devel- nvidia-driver nvidia-driver-cuda
nvidia_blacklist_nouveau
nvidia_hold 560 '' nvidia-driver nvidia-driver-cuda
nvidia_reboot_required 'NVIDIA driver 560 installed'
}
s1_skip() {
nvidia_driver_skip auto 560.35.05 nvidia-driver nvidia-driver-cuda
}
guarded_step 1 '{"step": 1, "kind": "NvidiaDriver", "component": "driver", "title": "NVIDIA driver 560 (cuda-repo, open modules)"}' 'driver: NVIDIA driver 560 (cuda-repo, open modules)'
