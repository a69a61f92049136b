# step 1: "os: OS packages" (AptPackages)
s1_probe() {
sh -c 'for p in "$@"; do dpkg-query -W -f='"'"'${Status}'"'"' "$p" 2>/dev/null | grep -q "install ok installed" || exit 1; done' probe ca-certificates python3 curl
}
s1_apply() {
apt_install ca-certificates python3 curl=7.88.1-10
}
run_step 1 '{"step": 1, "kind": "AptPackages", "component": "os", "title": "OS packages"}' 'os: OS packages'
