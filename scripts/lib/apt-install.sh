# shellcheck shell=bash
# apt_install PKG...: install Debian packages non-interactively. Refreshes the package lists
# first when apt does not know a package yet, and once more (then retries) when the install
# fails: a fresh machine's lists can be stale and name .deb versions the mirror no longer has.
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "apt-get is not available to install: $*" >&2
        return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    local pkg candidate
    for pkg in "$@"; do
        candidate="$(apt-cache policy "$pkg" 2>/dev/null | awk '/Candidate:/ {print $2}')"
        if [ -z "$candidate" ] || [ "$candidate" = "(none)" ]; then
            apt-get update -qq
            break
        fi
    done
    local opts=(-y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    if ! apt-get install "${opts[@]}" "$@" >/dev/null; then
        echo "apt-get install $* failed; refreshing the package lists and retrying" >&2
        apt-get update -qq
        apt-get install "${opts[@]}" "$@" >/dev/null
    fi
}
