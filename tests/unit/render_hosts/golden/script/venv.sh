# step 1: "python: virtual environment /opt/venv" (Venv)
s1_probe() {
test -x /opt/venv/bin/python
}
s1_apply() {
python3 -m venv -- /opt/venv
chown -R -- dev /opt/venv
}
run_step 1 '{"step": 1, "kind": "Venv", "component": "python", "title": "virtual environment /opt/venv"}' 'python: virtual environment /opt/venv'
