# step 1: "monitoring: GPU exporter (NVML)" (Service)
s1_probe() {
sh -c 'echo "$1  $2" | sha256sum -c --status' probe 3c571b2fc7bdb35077dcdb616d669e05c8397ec9cf5e1cbb0aef647c5fe73b43 /etc/systemd/system/toolkit-gpu_exporter.service && { ! systemd_running || { systemctl is-enabled --quiet -- toolkit-gpu_exporter.service && systemctl is-active --quiet -- toolkit-gpu_exporter.service; }; }
}
s1_apply() {
write_file /etc/systemd/system/toolkit-gpu_exporter.service 0644 root <<'TOOLKIT_BASE64'
IyBnZW5lcmF0ZWQgYnkgdG9vbGtpdCAwLjEuMCBmcm9tIHByb2ZpbGUgZ29sZGVuICgwMDAwMDAw
MDAwMDApOyBkbyBub3QgZWRpdCAtIHJlLXJlbmRlciBpbnN0ZWFkCltVbml0XQpEZXNjcmlwdGlv
bj10b29sa2l0IGdvbGRlbjogR1BVIGV4cG9ydGVyIChOVk1MKQpBZnRlcj1uZXR3b3JrLW9ubGlu
ZS50YXJnZXQKV2FudHM9bmV0d29yay1vbmxpbmUudGFyZ2V0CgpbU2VydmljZV0KVHlwZT1zaW1w
bGUKVXNlcj1yb290CldvcmtpbmdEaXJlY3Rvcnk9fgpFeGVjU3RhcnQ9Ii9vcHQvdG9vbGtpdC9n
cHUtZXhwb3J0ZXIvYmluL3B5dGhvbiIgImV4cG9ydGVyLnB5IiAiLS1wb3J0IiAiOTQwMCIKUmVz
dGFydD1vbi1mYWlsdXJlCk5vTmV3UHJpdmlsZWdlcz15ZXMKUHJpdmF0ZVRtcD15ZXMKUHJvdGVj
dFN5c3RlbT1mdWxsClByb3RlY3RLZXJuZWxUdW5hYmxlcz15ZXMKUHJvdGVjdEtlcm5lbE1vZHVs
ZXM9eWVzClByb3RlY3RDb250cm9sR3JvdXBzPXllcwpSZXN0cmljdFNVSURTR0lEPXllcwpMb2Nr
UGVyc29uYWxpdHk9eWVzCgpbSW5zdGFsbF0KV2FudGVkQnk9bXVsdGktdXNlci50YXJnZXQK
TOOLKIT_BASE64
if systemd_running; then
  systemctl daemon-reload
  systemctl enable -- toolkit-gpu_exporter.service
  systemctl restart -- toolkit-gpu_exporter.service
else
  echo '  skipped enabling toolkit-gpu_exporter.service: PID 1 is not systemd (a container?); start it by hand'
fi
}
s1_skip() {
gpu_service_skip toolkit-gpu_exporter.service
}
guarded_step 1 '{"step": 1, "kind": "Service", "component": "monitoring", "title": "GPU exporter (NVML)"}' 'monitoring: GPU exporter (NVML)'
