"""OS packages, the unprivileged user and the profile's environment variables."""

from __future__ import annotations

from toolkit.components.base import Context, Contribution, write_file
from toolkit.model.checks import check
from toolkit.model.steps import CreateUser, Environment


def os_packages(ctx: Context) -> Contribution:
    out = Contribution()
    family = ctx.family
    # An OS-packaged newer Python (RHEL's python3.11) is its own package; python3 is the family's default.
    python = family.python_venv_packages if ctx.target.python_bin == "python3" else (ctx.target.python_bin,)
    base = family.ca_packages + python
    profile_packages = tuple(family.package_spec(p) for p in ctx.profile.packages.apt)
    wanted = list(dict.fromkeys(base + profile_packages))
    out.steps.append(ctx.os_packages("os", "OS packages", wanted))
    t = ctx.target
    out.checks.append(check("os_release", "os", f"OS is {t.distro} {t.os_version}",
                            distro=t.distro, version=t.os_version))
    for pkg in wanted:
        name = family.package_name(pkg)
        out.checks.append(check("os_package", "os", f"package {name} installed", ident=f"os_package:{name}",
                                name=name, family=family.name))
    return out


def user(ctx: Context) -> Contribution:
    out = Contribution()
    u = ctx.profile.user
    if not u.create:
        return out
    home = f"/home/{u.name}"
    if u.sudo:
        out.steps.append(ctx.os_packages("user", "sudo", ("sudo",)))
    out.steps.append(CreateUser("user", f"user {u.name}", name=u.name, uid=u.uid, gid=u.gid,
                                shell=u.shell, home=home, sudo=u.sudo))
    if u.sudo:
        out.steps.append(write_file("user", f"sudo rights for {u.name}", f"/etc/sudoers.d/toolkit-{u.name}",
                                    f"{u.name} ALL=(ALL:ALL) NOPASSWD: ALL\n", mode="0440"))
    out.checks.append(check("user", "user", f"user {u.name} ({u.uid}:{u.gid})", ident=f"user:{u.name}",
                            name=u.name, uid=u.uid, gid=u.gid, home=home, shell=u.shell, sudo=u.sudo))
    # What the user's own tools write (model downloads under ~/.cache/huggingface, ~/.cache/torch, temp
    # files): tested as that user, with a new folder in each and no folder under the home it cannot write.
    out.checks.append(check("writable", "user", f"{u.name} can write its home, ~/.cache and /tmp",
                            ident=f"writable:{u.name}", user=u.name, dirs=(home, f"{home}/.cache", "/tmp"),
                            trees=(home,)))
    return out


def environment(ctx: Context) -> Contribution:
    out = Contribution()
    env = ctx.profile.env
    if env:
        out.steps.append(Environment("env", "profile environment", variables=tuple(sorted(env.items()))))
    return out
