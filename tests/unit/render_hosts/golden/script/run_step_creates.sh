# step 1: "run: run warm" (RunStep)
s1_probe() {
test -e /data/.warm
}
s1_apply() {
env -C /root -- HOME=/root USER=root LOGNAME=root /opt/toolkit/run/warm
}
run_step 1 '{"step": 1, "kind": "RunStep", "component": "run", "title": "run warm"}' 'run: run warm'
