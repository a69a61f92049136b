# step 1: "misc: ldconfig" (RunCommand)
s1_probe() {
return 1
}
s1_apply() {
ldconfig
}
run_step 1 '{"step": 1, "kind": "RunCommand", "component": "misc", "title": "ldconfig"}' 'misc: ldconfig'
