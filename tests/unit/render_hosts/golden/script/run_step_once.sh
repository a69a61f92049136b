# step 1: "run: run warm-cache" (RunStep)
s1_probe() {
grep -qsxF -- abababababababababababababababababababababababababababababababab /var/lib/toolkit/run/warm-cache
}
s1_apply() {
runuser -u dev -- env -C /home/dev -- HOME=/home/dev USER=dev LOGNAME=dev 'GREETING=hi there' python3 -c 'print('"'"'warm $HOME'"'"')'
mkdir -p -- /var/lib/toolkit/run
printf '%s\n' abababababababababababababababababababababababababababababababab >/var/lib/toolkit/run/warm-cache
}
run_step 1 '{"step": 1, "kind": "RunStep", "component": "run", "title": "run warm-cache"}' 'run: run warm-cache'
