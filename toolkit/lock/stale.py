"""Does a lock still belong to a plan? What changed, said per input, with the command that refreshes it."""

from __future__ import annotations

from toolkit.lock.model import Lock
from toolkit.lock.requests import summary
from toolkit.model.plan import Plan


def changes(lock: Lock, plan: Plan) -> list[str]:
    """Every difference between what the lock was made from and what the plan asks for now ([] = fresh)."""
    then, now = dict(lock.inputs), dict(summary(plan))
    out = []
    if lock.profile != plan.name:
        out.append(f"the lock is for profile {lock.profile!r}, not {plan.name!r}")
    for key in sorted(set(then) | set(now), key=lambda k: (k not in now, list(now).index(k) if k in now else 0)):
        old, new = then.get(key), now.get(key)
        if old == new:
            continue
        if old is None:
            out.append(f"{key}: new ({new})")
        elif new is None:
            out.append(f"{key}: gone (was {old})")
        else:
            words_old, words_new = old.split(), new.split()
            added = [w for w in words_new if w not in words_old]
            removed = [w for w in words_old if w not in words_new]
            detail = ", ".join([*(f"+{w}" for w in added), *(f"-{w}" for w in removed)]) or f"{old} -> {new}"
            out.append(f"{key}: {detail}")
    if not out and lock.profile_digest != plan.digest:
        out.append("the profile changed outside what the lock pins (its digest differs)")
    return out
