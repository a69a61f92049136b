"""setup.sh parts of the host steps of `users:`, `directories:` and `mounts:`: each apply runs the step's
script from toolkit.model.host_accounts (the Ansible playbook runs the same refusals), every plan value
a quoted argument. A Mount's format needs setup.sh --allow-format (TOOLKIT_ALLOW_FORMAT)."""

from __future__ import annotations

from toolkit.model import host_accounts as H
from toolkit.model.steps import Account, AuthorizedKeys, Directory, Groups, Mount, Step
from toolkit.render.common import sh

STEP_TYPES = (Groups, Account, AuthorizedKeys, Directory, Mount)
ALLOW_FORMAT = '"$TOOLKIT_ALLOW_FORMAT"'      # setup.sh's own variable: 1 with --allow-format


def apply(step: Step) -> str:
    """The body of the step's sN_apply."""
    if isinstance(step, Groups):
        return sh("sh", "-c", H.GROUPS_APPLY, "groups", *step.args())
    if isinstance(step, Account):
        return sh("sh", "-c", H.ACCOUNT_APPLY, "account", *step.args())
    if isinstance(step, AuthorizedKeys):
        return sh(*step.as_user(H.KEYS_APPLY, "keys"))
    if isinstance(step, Directory):
        return sh("sh", "-c", H.DIRECTORY_APPLY, "directory", step.path, step.owner, step.group, step.mode)
    if isinstance(step, Mount):
        return f"{sh(*step.apply('')[:-1])} {ALLOW_FORMAT}"
    raise TypeError(f"not a host account, folder or mount step: {type(step).__name__}")
