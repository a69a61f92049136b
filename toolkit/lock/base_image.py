"""The base image a lock names, by digest.

An image that came from a registry has a repo digest (`docker image inspect`'s RepoDigests) for the
repository the plan names: the lock records it and a locked build says `FROM repo@sha256:...`, which any
engine can pull. An image made here (`docker import`, a local build, a retag under another name) has no
such digest: the lock records its image id (kind "image-id"), which only this engine's copy matches.
"""

from __future__ import annotations

from toolkit.lock.model import BaseImage, LockError

DOCKER_HUB = ("docker.io/library/", "index.docker.io/library/", "docker.io/", "index.docker.io/")


def repository(ref: str) -> str:
    """debian:12 -> debian, registry:5000/ns/img:tag -> registry:5000/ns/img, img@sha256:... -> img;
    Docker Hub's long forms are shortened the way RepoDigests writes them."""
    repo = ref.split("@", 1)[0]
    last = repo.rsplit("/", 1)[-1]
    if ":" in last:
        repo = repo[: len(repo) - len(last)] + last.split(":", 1)[0]
    for prefix in DOCKER_HUB:
        if repo.startswith(prefix):
            return repo[len(prefix):]
    return repo


def base_image(client, ref: str, *, pull: bool = False) -> BaseImage:
    """`ref` on this engine, by repo digest when it came from a registry under that name, else by image id.
    An image not here is pulled only when `pull`; otherwise LockError says how to get it."""
    import docker

    try:
        image = client.images.get(ref)
    except docker.errors.ImageNotFound:
        if not pull:
            raise LockError(f"base image {ref} is not on this engine",
                            f"`docker pull {ref}` first, or lock for an image you have with --base-image IMAGE "
                            "(`docker images` lists them)") from None
        image = _pull(client, ref)
    except docker.errors.DockerException as exc:
        raise LockError(f"could not inspect base image {ref}: {exc}", "`docker info` says whether the engine runs") from exc
    return _pinned(ref, image.attrs)


def _pull(client, ref: str):
    import docker

    try:
        return client.images.pull(ref)
    except docker.errors.DockerException as exc:
        raise LockError(f"could not pull base image {ref}: {exc}",
                        "check the name and the registry's reachability, or lock for a local image with "
                        "--base-image IMAGE") from exc


def _pinned(ref: str, attrs: dict) -> BaseImage:
    wanted = repository(ref)
    named = ref.rpartition("@")[2] if "@" in ref else None
    digests = [d for r, _, d in (e.rpartition("@") for e in attrs.get("RepoDigests") or ())
               if repository(r) == wanted and d.startswith("sha256:")]
    if digests:
        return BaseImage(ref, named if named and named in digests else digests[0], "repo-digest")
    return BaseImage(ref, attrs["Id"], "image-id")
