# step 1: "directories: folder /data/shared" (Directory)
s1_probe() {
sh -c '[ -d "$1" ] && [ ! -L "$1" ] && [ "$(stat -c %U:%G:%a -- "$1")" = "$2" ]
' probe /data/shared alice:gpu:2775
}
s1_apply() {
sh -c 'set -e
if [ -L "$1" ] || { [ -e "$1" ] && [ ! -d "$1" ]; }; then
  echo "$1 exists and is not a folder (a symbolic link or a file); move it away, then apply again" >&2; exit 1
fi
mkdir -p -- "$1"
chown -- "$2:$3" "$1"
chmod -- "$4" "$1"
' directory /data/shared alice gpu 2775
}
run_step 1 '{"step": 1, "kind": "Directory", "component": "directories", "title": "folder /data/shared"}' 'directories: folder /data/shared'
