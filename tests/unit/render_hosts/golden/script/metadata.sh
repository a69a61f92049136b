# step 1: "metadata: provenance" (Metadata)
s1_probe() {
sh -c 'echo "$1  $2" | sha256sum -c --status' probe c8bf59040f2e2d616e01923ddeb7210fa40983c33f7e5f99cb5f0c5735da92c7 /etc/toolkit/profile.json
}
s1_apply() {
write_file /etc/toolkit/profile.json 0644 root <<'TOOLKIT_BASE64'
eyJuYW1lIjogImdvbGRlbiJ9Cg==
TOOLKIT_BASE64
}
run_step 1 '{"step": 1, "kind": "Metadata", "component": "metadata", "title": "provenance"}' 'metadata: provenance'
