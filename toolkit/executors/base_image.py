"""Before a build: is the base image (the FROM line) on this engine? If not, the engine will try a
registry; say so, and how to make or load the image instead."""

from __future__ import annotations

LOAD_HINT = ("to use an image you have as a file: `docker load -i IMAGE.tar` (saved elsewhere with "
             "`docker save`); a Debian 12 base without any registry: scripts/ensure-base-image.sh in a toolkit "
             "checkout makes local/debian:12 from Debian's archive; `docker images` lists what is here")


def is_local(api, image: str) -> bool | None:
    """True/False: the engine has/lacks image; None: could not tell."""
    import docker

    try:
        api.inspect_image(image)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError:
        return None
    return True


def missing_note(image: str) -> str:
    return f"base image {image} is not present locally: the build will try to pull it from a registry. {LOAD_HINT[0].upper()}{LOAD_HINT[1:]}"
