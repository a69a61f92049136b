# step 1: "git: Git configuration" (GitConfig)
s1_probe() {
sh -c 'git config --system --get filter.lfs.process >/dev/null || exit 1; while [ $# -gt 0 ]; do [ "$(git config --system --get "$1")" = "$2" ] || exit 1; shift 2; done' probe init.defaultBranch main
}
s1_apply() {
git config --system -- init.defaultBranch main
git lfs install --system
}
run_step 1 '{"step": 1, "kind": "GitConfig", "component": "git", "title": "Git configuration"}' 'git: Git configuration'
