"""What an evaluator returns, and the small helpers evaluators share."""

from __future__ import annotations

from dataclasses import dataclass

from toolkit.verify.probe import JUPYTER_PACKAGES  # noqa: F401 - re-exported for the evaluators

# import name of a framework -> the probe gatherer that imports it in its own process
FRAMEWORK_MODULES = {"torch": "torch", "tensorflow": "tf"}


@dataclass(frozen=True)
class Outcome:
    """What one evaluator decides; evaluate() adds identity and timing."""

    ok: bool
    expected: str
    found: str
    hint: str = ""
    skipped: bool = False    # the target cannot have the thing, or the facts cannot tell: a skip, saying why


def missing(section: str, facts: dict) -> Outcome | None:
    value = facts.get(section)
    if value is None:
        return Outcome(False, f"facts for {section}", "the probe gathered none", "this is a toolkit bug; report it")
    if isinstance(value, dict) and "_error" in value and not value.get("missing"):
        return Outcome(False, f"facts for {section}", value["_error"], "")
    return None


def venv_of(python: str) -> str:
    return python.rsplit("/bin/", 1)[0] if "/bin/" in python else python


def tail(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "..." + text[-limit:]
