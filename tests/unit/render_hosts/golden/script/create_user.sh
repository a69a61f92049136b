# step 1: "user: user dev" (CreateUser)
s1_probe() {
sh -c 'getent passwd "$1" | cut -d: -f1,3,4,6,7 | grep -qx "$2"' probe dev dev:1000:1000:/home/dev:/bin/bash
}
s1_apply() {
create_user dev 1000 1000 /home/dev /bin/bash
}
run_step 1 '{"step": 1, "kind": "CreateUser", "component": "user", "title": "user dev"}' 'user: user dev'
