"""Mutable bookkeeping shared by the resolver steps: issues, warnings, decisions, framework picks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .model import ISSUE_FIELDS, CompatIssue, Decision, StackRequest
from .schema import CompatData


@dataclass
class FwPick:
    """One requested framework matched to a data row."""

    name: str  # "torch" | "tensorflow" | "jax"
    field: str  # profile field path of its version
    requested: str  # what the request said ("2.7", "2.7.1")
    key: str  # data row key ("2.7" for torch/TF, "0.6.0" for JAX)
    pin: str | None  # full version for "==", None when only major.minor was given
    newest_known: str  # newest patch known for the request
    source: str  # "pytorch.releases.2.7"
    row: Any  # TorchRelease | TfRelease | JaxRelease

    @property
    def label(self) -> str:
        return f"{self.name} {self.pin or self.key}"

    def requirement(self, dist: str) -> str:
        return f"{dist}=={self.pin}" if self.pin else f"{dist}=={self.requested}.*"


@dataclass
class Ctx:
    req: StackRequest
    data: CompatData
    issues: list[CompatIssue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    torch: FwPick | None = None
    tf: FwPick | None = None
    jax: FwPick | None = None

    @property
    def picks(self) -> list[FwPick]:
        return [p for p in (self.torch, self.tf, self.jax) if p is not None]

    def issue(self, fields: tuple[str, ...], message: str, hint: str) -> None:
        unknown = [f for f in fields if f not in ISSUE_FIELDS
                   and not (f.rpartition(".")[0] in ISSUE_FIELDS and f.rpartition(".")[2].isdigit())]
        if unknown:  # a programming error, not a user error
            raise AssertionError(f"unknown issue field(s) {unknown}")
        self.issues.append(CompatIssue(tuple(fields), message, hint))

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)

    def decide(self, field_path: str, value: str, rule: str, source: str) -> None:
        self.decisions.append(Decision(field_path, value, rule, source))

    def check_uncertain(self, source: str, row: Any, fld: str | None = None) -> None:
        """Warn once when the resolver relies on a row (or field of a row) marked uncertain."""
        if row is None or not row.is_uncertain(fld):
            return
        where = f"{source}.{fld}" if fld else source
        note = f" ({row.note})" if getattr(row, "note", None) else ""
        self.warn(f"data row {where} is marked uncertain{note}; verify it before relying on it")
