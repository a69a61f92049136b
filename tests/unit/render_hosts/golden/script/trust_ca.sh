# step 1: "network: trust extra CA certificates" (TrustCA)
s1_probe() {
sh -c 'b="$1"; shift; while [ $# -gt 0 ]; do echo "$1  $2" | sha256sum -c --status || exit 1; [ "$b" -nt "$2" ] || exit 1; shift 2; done' probe /etc/ssl/certs/ca-certificates.crt 09a6377cd49ec1bc061e65ae70648ea409ff0d72ad345d8063a85d85e48c7bb9 /usr/local/share/ca-certificates/toolkit/00-corp.crt
}
s1_apply() {
write_file /usr/local/share/ca-certificates/toolkit/00-corp.crt 0644 root <<'TOOLKIT_BASE64'
LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJkR1Z6ZEE9PQotLS0tLUVORCBDRVJUSUZJ
Q0FURS0tLS0tCg==
TOOLKIT_BASE64
update-ca-certificates
}
run_step 1 '{"step": 1, "kind": "TrustCA", "component": "network", "title": "trust extra CA certificates"}' 'network: trust extra CA certificates'
