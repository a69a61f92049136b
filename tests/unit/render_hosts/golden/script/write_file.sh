# step 1: "user: sudo rights for dev" (WriteFile)
s1_probe() {
sh -c 'echo "$1  $2" | sha256sum -c --status' probe 3de081f047bff0ac0a38d9c6d46a54db4cdd2c3ef49f4b0d41d1c8d62040ae00 /etc/sudoers.d/toolkit-dev
}
s1_apply() {
write_file /etc/sudoers.d/toolkit-dev 0440 root <<'TOOLKIT_BASE64'
ZGV2IEFMTD0oQUxMOkFMTCkgTk9QQVNTV0Q6IEFMTAo=
TOOLKIT_BASE64
}
run_step 1 '{"step": 1, "kind": "WriteFile", "component": "user", "title": "sudo rights for dev"}' 'user: sudo rights for dev'
