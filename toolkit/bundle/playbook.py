"""The bundle's Ansible playbook (DIR/ansible/playbook.yml): the bundle plan's playbook, installing from the
bundle only, with the bundle's own checks around it.

The bundle is copied to each host first (`toolkit apply --bundle DIR --engine ansible` sends it over SFTP,
resuming by checksum; by hand: any copy) and the play is told where with the variable `toolkit_bundle_dir`.
On each host, after the OS check and before anything changes:

- every file is checked against the bundle's SHA256SUMS there (`sha256sum --strict -c`): a missing or changed
  file fails the host, naming the file, and nothing is changed;
- --check is refused (the bundle's apt lists only exist once a real run has read its repository; install.sh
  --dry-run lists what would change).

Then, as install.sh does, layout.ROOT is linked to the folder (the plan's apt configuration and wheelhouse
name only ROOT paths) for the plan's tasks and removed however they end (a block's `always`). The play's
environment (the bundle plan's Environment step) gives apt the bundle's configuration (APT_CONFIG: its own
repository alone) and pip no index: the package module installs its own binding (python3-apt) and the pip
module's `packaging` from the bundle, which carries them (the lock's ansible engine packages).
"""

from __future__ import annotations

from toolkit.bundle import layout
from toolkit.model.plan import Plan
from toolkit.render import ansible
from toolkit.render.ansible_tasks import Template

VAR = "toolkit_bundle_dir"
FOLDER = Template("{{ " + VAR + " }}")
CHECK = 'cd -- "$1" && LC_ALL=C sha256sum --strict --quiet -c SHA256SUMS 2>&1'
LINK = ('root=$1; here=$(cd -- "$2" && pwd -P) || exit 1; [ "$here" = "$root" ] && exit 0; '
        'if [ -e "$root" ] && [ ! -L "$root" ]; then '
        'echo "$root exists and is not toolkit\'s link to a bundle; nothing was changed" >&2; exit 1; fi; '
        '[ "$(readlink -- "$root" 2>/dev/null || true)" = "$here" ] || '
        '{ mkdir -p -- "$(dirname -- "$root")" && ln -sfn -- "$here" "$root"; }')
UNLINK = 'if [ -L "$1" ]; then rm -f -- "$1"; fi'
ALWAYS = ["always"]


def wrap() -> ansible.Wrap:
    checks = (
        {"name": "Bundle: where it is on the host",
         "ansible.builtin.fail": {"msg": f"set {VAR} to the folder this bundle was copied to on the host "
                                         f"(-e {VAR}=/path/to/bundle; toolkit apply --bundle sets it)"},
         "when": f"{VAR} is not defined", "tags": ALWAYS},
        {"name": "Bundle: refuse --check",
         "ansible.builtin.fail": {"msg": "a bundle's playbook does not run in --check (its apt lists are made by "
                                         "the real run); bash install.sh --dry-run lists what would change"},
         "when": "ansible_check_mode", "tags": ALWAYS},
        {"name": "Bundle: check every file against SHA256SUMS",
         "ansible.builtin.command": {"argv": ["sh", "-c", CHECK, "bundle-check", FOLDER]},
         "register": "toolkit_bundle_sums", "changed_when": False, "failed_when": False, "check_mode": False,
         "tags": ALWAYS},
        {"name": "Bundle: refuse files that do not match SHA256SUMS",
         "ansible.builtin.fail": {"msg": Template(
             "{{ toolkit_bundle_sums.stdout }} -- the bundle in {{ " + VAR + " }} does not match its SHA256SUMS "
             "(named before); nothing was changed: copy it again (toolkit apply --bundle sends what differs)")},
         "when": "toolkit_bundle_sums.rc != 0", "tags": ALWAYS},
    )
    setup = ({"name": f"Bundle: link {layout.ROOT} to it",
              "ansible.builtin.command": {"argv": ["sh", "-c", LINK, "bundle-link", layout.ROOT, FOLDER]},
              "changed_when": False, "tags": ALWAYS},)
    cleanup = ({"name": f"Bundle: remove the link {layout.ROOT}",
                "ansible.builtin.command": {"argv": ["sh", "-c", UNLINK, "bundle-unlink", layout.ROOT]},
                "changed_when": False, "tags": ALWAYS},)
    # apt's module judges list freshness by /var/lib/apt's stamp, not the bundle's lists: always read them
    return ansible.Wrap(checks=checks, setup=setup, cleanup=cleanup, package_args=(("cache_valid_time", 0),))


def files(plan: Plan) -> dict[str, str]:
    """The playbook's files by their path in the bundle (ansible/playbook.yml, ansible/files/...)."""
    rendered = ansible.render(plan, wrap())
    if rendered.trees:      # bundle_plan refuses CopyTree steps: nothing is copied from this machine
        raise ValueError("a bundle's playbook copies no folder from this machine")
    return dict(rendered.files)
