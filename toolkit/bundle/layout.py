"""Where things live inside a bundle and on the target while it installs.

install.sh links the bundle folder, wherever it was copied, to ROOT; the setup script and the apt
configuration name only ROOT-based paths, so one rendering serves every copy. `toolkit build --bundle`
bind-mounts the same folders at ROOT in each RUN step.
"""

from __future__ import annotations

ROOT = "/opt/toolkit/bundle"           # the bundle on the target (install.sh's link, the build's mount)
DEBS = "debs"                          # the local apt repository (flat: Packages, Packages.gz, Release)
WHEELS = "wheels"                      # the wheelhouse
APT = "apt"                            # apt.conf and sources.list that name only the bundle's repository
SETUP = "setup.sh"
ANSIBLE = "ansible"                    # the playbook (ansible/playbook.yml), run with -e toolkit_bundle_dir=...
PLAYBOOK = "ansible/playbook.yml"
INSTALL = "install.sh"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
MARKER = ".toolkit-bundle"             # says toolkit made this folder (a bundle may replace only its own)
APT_STATE = "/var/lib/toolkit/bundle-apt"   # apt's lists of the bundle repository (never the system's lists)
IMAGES = "images"                      # docker save archives (--with-image, --with-base-image)


def at_root(*parts: str) -> str:
    return "/".join((ROOT, *parts))


APT_CONF = at_root(APT, "apt.conf")
SOURCES = at_root(APT, "sources.list")
