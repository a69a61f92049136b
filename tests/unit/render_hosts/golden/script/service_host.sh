# step 1: "jupyter: Jupyter server" (Service)
s1_probe() {
sh -c 'echo "$1  $2" | sha256sum -c --status' probe 1c930391beb649c6e5404b30215ce42f0b6fb899692fed92387a0bddf6c4e258 /etc/systemd/system/toolkit-jupyter.service && { ! systemd_running || { systemctl is-enabled --quiet -- toolkit-jupyter.service && systemctl is-active --quiet -- toolkit-jupyter.service; }; }
}
s1_apply() {
write_file /etc/systemd/system/toolkit-jupyter.service 0644 root <<'TOOLKIT_BASE64'
IyBnZW5lcmF0ZWQgYnkgdG9vbGtpdCAwLjEuMCBmcm9tIHByb2ZpbGUgZ29sZGVuICgwMDAwMDAw
MDAwMDApOyBkbyBub3QgZWRpdCAtIHJlLXJlbmRlciBpbnN0ZWFkCltVbml0XQpEZXNjcmlwdGlv
bj10b29sa2l0IGdvbGRlbjogSnVweXRlciBzZXJ2ZXIKQWZ0ZXI9bmV0d29yay1vbmxpbmUudGFy
Z2V0CldhbnRzPW5ldHdvcmstb25saW5lLnRhcmdldAoKW1NlcnZpY2VdClR5cGU9c2ltcGxlClVz
ZXI9ZGV2CldvcmtpbmdEaXJlY3Rvcnk9fgpFeGVjU3RhcnQ9Ii9vcHQvdmVudi9iaW4vanVweXRl
ciIgImxhYiIgIi0taXA9MC4wLjAuMCIgIi0tcG9ydD04ODg4IgpSZXN0YXJ0PW9uLWZhaWx1cmUK
CltJbnN0YWxsXQpXYW50ZWRCeT1tdWx0aS11c2VyLnRhcmdldAo=
TOOLKIT_BASE64
if systemd_running; then
  systemctl daemon-reload
  systemctl enable --now -- toolkit-jupyter.service
else
  echo '  skipped enabling toolkit-jupyter.service: PID 1 is not systemd (a container?); start it by hand'
fi
}
run_step 1 '{"step": 1, "kind": "Service", "component": "jupyter", "title": "Jupyter server"}' 'jupyter: Jupyter server'
