"""What `bundle`, `apply --bundle` and `build --bundle` share: the bundle plan of a profile (its lock checked
fresh, steps no bundle can carry refused first) and a bundle folder checked whole and made for that plan."""

from __future__ import annotations

from pathlib import Path

from toolkit.commands import locking
from toolkit.errors import UsageError
from toolkit.plan.builder import build_plan
from toolkit.profile.loader import load_profile


def bundle_plan_for(profile: str, compat_data: str | None, lock_file: str | None):
    """(loaded profile, bundle plan, lock, lock path); exit 2 on a missing or stale lock or a step bundles cannot carry."""
    import dataclasses

    from toolkit.bundle.plan import BundleError, bundle_plan, refusal_hint, unsupported
    from toolkit.lock.apply import locked_plan
    from toolkit.lock.checks import locked_checks

    loaded = load_profile(profile)
    plan = build_plan(loaded, compat_data)
    refused = unsupported(plan)
    if refused:      # before any lock is looked for: no lock would make them collectable
        raise UsageError(f"cannot bundle {plan.name}: it has steps a bundle cannot carry: {'; '.join(refused)}",
                         refusal_hint(plan))
    lock, path = locking.load_for(loaded, plan, lock_file)
    locked = locked_plan(plan, lock)
    locked = dataclasses.replace(locked, checks=locked.checks + locked_checks(locked, lock))
    try:
        return loaded, bundle_plan(locked), lock, path
    except BundleError as exc:
        raise UsageError(f"cannot bundle {plan.name}: {exc.message}", exc.hint) from None


def checked_bundle(profile: str, compat_data: str | None, lock_file: str | None, folder: str, *,
                   playbook: bool = False):
    """(bundle plan, lock, absolute folder) for apply/build --bundle: the folder is whole (every file matches its
    SHA256SUMS) and was made from this profile and lock (and, with `playbook`, holds its Ansible playbook);
    exit 2 otherwise."""
    import json

    from toolkit.bundle import layout
    from toolkit.bundle.verify import damaged
    from toolkit.lock.apply import lock_id

    root = Path(folder).resolve()
    if not (root / layout.SUMS).is_file() or not (root / layout.MANIFEST).is_file():
        raise UsageError(f"--bundle {folder}: no bundle there (no {layout.SUMS} or {layout.MANIFEST})",
                         "make one: toolkit bundle PROFILE -o DIR")
    if playbook and not (root / layout.PLAYBOOK).is_file():
        raise UsageError(f"--bundle {folder} has no Ansible playbook ({layout.PLAYBOOK}): an earlier toolkit made it",
                         "make it again (toolkit bundle PROFILE -o DIR), or apply it with the native engine")
    bad = damaged(root)
    if bad:
        raise UsageError(f"--bundle {folder}: files do not match its SHA256SUMS: {', '.join(bad[:8])}",
                         "make the bundle again (toolkit bundle PROFILE -o DIR) or copy it again")
    _, plan, lock, _ = bundle_plan_for(profile, compat_data, lock_file)
    try:
        made = json.loads((root / layout.MANIFEST).read_text())
    except (ValueError, OSError) as exc:
        raise UsageError(f"--bundle {folder}: unreadable {layout.MANIFEST}: {exc}") from None
    if made.get("profile_digest") != plan.digest or made.get("lock_id") != lock_id(lock):
        raise UsageError(f"--bundle {folder} was made for another version of profile {plan.name} or its lock",
                         f"make it again: toolkit bundle {profile} -o {folder}")
    return plan, lock, str(root)
