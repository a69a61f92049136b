# step 1: "run: run lfs" (RunStep)
s1_probe() {
runuser -u dev -- env -C /home/dev -- HOME=/home/dev USER=dev LOGNAME=dev git config --system filter.lfs.process
}
s1_apply() {
runuser -u dev -- env -C /home/dev -- HOME=/home/dev USER=dev LOGNAME=dev git lfs install --system
}
run_step 1 '{"step": 1, "kind": "RunStep", "component": "run", "title": "run lfs"}' 'run: run lfs'
