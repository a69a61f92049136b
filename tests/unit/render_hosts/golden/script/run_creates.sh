# step 1: "python: venv (uv)" (RunCommand)
s1_probe() {
test -e /opt/venv/bin/python
}
s1_apply() {
/opt/toolkit/bootstrap/bin/uv venv /opt/venv
}
run_step 1 '{"step": 1, "kind": "RunCommand", "component": "python", "title": "venv (uv)"}' 'python: venv (uv)'
