# step 1: "env: profile environment" (Environment)
export PYTHONUNBUFFERED=1
s1_probe() {
sh -c 'echo "$1  $2" | sha256sum -c --status' probe c99a6c41ab63311e169673fb8ace5d50f2be773b5a4a4fb158b3f8e20cb4edc1 /etc/profile.d/toolkit.sh
}
s1_apply() {
write_file /etc/profile.d/toolkit.sh 0644 root <<'TOOLKIT_BASE64'
IyBnZW5lcmF0ZWQgYnkgdG9vbGtpdCAwLjEuMCBmcm9tIHByb2ZpbGUgZ29sZGVuICgwMDAwMDAw
MDAwMDApOyBkbyBub3QgZWRpdCAtIHJlLXJlbmRlciBpbnN0ZWFkCmV4cG9ydCBQWVRIT05VTkJV
RkZFUkVEPTEK
TOOLKIT_BASE64
}
run_step 1 '{"step": 1, "kind": "Environment", "component": "env", "title": "profile environment"}' 'env: profile environment'
