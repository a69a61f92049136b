# step 1: "os: OS packages" (DnfPackages)
s1_probe() {
sh -c 'for p in "$@"; do { rpm -q --quiet -- "$p" || rpm -q --quiet --whatprovides -- "$p"; } || exit 1; done' probe ca-certificates python3 curl
}
s1_apply() {
dnf_install ca-certificates python3 curl-7.76.1
}
run_step 1 '{"step": 1, "kind": "DnfPackages", "component": "os", "title": "OS packages"}' 'os: OS packages'
