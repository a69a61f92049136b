"""setup.sh parts of package repositories signed by a pinned key (PackageRepository, standalone or inside
the GPU host steps): the call that sets one up and the family's bash library it needs
(templates/<family.repo_library>), rendered once before the first step when a plan has any."""

from __future__ import annotations

from toolkit.model import host_probes, osfamily
from toolkit.model.steps import PackageRepository, repo_present
from toolkit.render.common import sh, template


def call(repo: PackageRepository) -> str:
    """One pinned_repo line (the source entry without its newline); every value goes through sh()."""
    line = repo.source_line().removesuffix("\n")
    return "pinned_repo " + sh(repo.url, repo.source_path, line, repo.key_url, repo.key_fingerprint,
                               repo.signed_by, *repo.keyring_packages)


def library(family: osfamily.OsFamily) -> str:
    probes = repo_present(family.name) + host_probes.KEY_CHECK
    return template(family.repo_library).render(family=family, probes=probes)
