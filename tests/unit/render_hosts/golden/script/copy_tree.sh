# step 1: "python: wheelhouse" (CopyTree)
s1_probe() {
test -d /opt/toolkit/wheelhouse
}
s1_apply() {
need_folder /opt/toolkit/wheelhouse /srv/wheels
}
run_step 1 '{"step": 1, "kind": "CopyTree", "component": "python", "title": "wheelhouse"}' 'python: wheelhouse'
