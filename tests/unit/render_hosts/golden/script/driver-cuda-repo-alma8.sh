# step 1: "driver: NVIDIA driver 550 (cuda-repo, proprietary modules)" (NvidiaDriver)
s1_probe() {
probe: probe auto 550.54.15 1 kernel-devel- nvidia-driver nvidia-driver-cuda
}
s1_apply() {
nvidia_refuse_old 550.54.15
pinned_repo https://developer.download.nvidia.com/compute/cuda/repos/rhel8/x86_64/ /etc/yum.repos.d/toolkit-cuda.repo '[toolkit-cuda]
name=toolkit-cuda
baseurl=https://developer.download.nvidia.com/compute/cuda/repos/rhel8/x86_64/
enabled=1
gpgcheck=1
repo_gpgcheck=0
gpgkey=file:///etc/pki/rpm-gpg/toolkit-cuda-archive.asc' https://developer.download.nvidia.com/compute/cuda/repos/rhel8/x86_64/D42D0685.pub 610C7B14E068A878070DA4E99CD0A493D42D0685 /etc/pki/rpm-gpg/toolkit-cuda-archive.asc
nvidia_module_stream 550-dkms
nvidia_install kernel-devel- nvidia-driver nvidia-driver-cuda
nvidia_blacklist_nouveau
nvidia_hold 550 '' nvidia-driver nvidia-driver-cuda
nvidia_reboot_required 'NVIDIA driver 550 installed'
}
s1_skip() {
nvidia_driver_skip auto 550.54.15 nvidia-driver nvidia-driver-cuda
}
guarded_step 1 '{"step": 1, "kind": "NvidiaDriver", "component": "driver", "title": "NVIDIA driver 550 (cuda-repo, proprietary modules)"}' 'driver: NVIDIA driver 550 (cuda-repo, proprietary modules)'
