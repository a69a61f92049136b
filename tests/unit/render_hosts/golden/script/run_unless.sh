# step 1: "network: drop default deb822 sources" (RunCommand)
s1_probe() {
sh -c '! test -e "$1"' probe /etc/apt/sources.list.d/debian.sources
}
s1_apply() {
rm -f /etc/apt/sources.list.d/debian.sources
}
run_step 1 '{"step": 1, "kind": "RunCommand", "component": "network", "title": "drop default deb822 sources"}' 'network: drop default deb822 sources'
