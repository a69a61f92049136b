"""Profile values that pass their pattern but are dangerous or silently mean something else.

Each rule returns None when the value is fine, else a message saying why not and what to do;
model.py turns those into located validation errors.
"""

from __future__ import annotations

import fnmatch
import posixpath

from packaging.requirements import InvalidRequirement, Requirement

from toolkit.redact import looks_secret

# ----------------------------------------------------------------------------- env names
RUN_TIME_HINT = ("pass it when the environment runs instead (docker run -e NAME, an EnvironmentFile= of a "
                 "systemd unit, your shell); a profile ends up in the image, its history and profile.json")
# bash refuses to assign these (the script would abort at the export).
BASH_READONLY = frozenset({"BASHOPTS", "BASH_VERSINFO", "EUID", "PPID", "SHELLOPTS", "UID"})
# bash gives these a meaning of its own: assigning one changes how setup.sh runs (IFS, PS4, ENV,
# BASH_ENV, CDPATH, GLOBIGNORE, POSIXLY_CORRECT), is silently ignored or overwritten (GROUPS,
# LINENO, RANDOM, HOSTNAME...) or is meaningless in an image. Every BASH_* name is included.
BASH_SPECIAL = frozenset({
    "IFS", "PS4", "ENV", "CDPATH", "GLOBIGNORE", "GLOBSORT", "POSIXLY_CORRECT", "SHELL", "SHLVL", "PWD",
    "OLDPWD", "LINENO", "RANDOM", "SRANDOM", "SECONDS", "EPOCHSECONDS", "EPOCHREALTIME", "HISTCMD",
    "FUNCNAME", "GROUPS", "DIRSTACK", "PIPESTATUS", "OPTIND", "OPTARG", "OPTERR", "HOSTNAME", "HOSTTYPE",
    "MACHTYPE", "OSTYPE", "BASHPID", "PROMPT_COMMAND", "INPUTRC",
})
# Set by toolkit itself from other profile fields: a value in `env` would fight it.
SET_BY_TOOLKIT = {
    "DEBIAN_FRONTEND": "setup.sh and the image set it to noninteractive for apt",
    "VIRTUAL_ENV": "set from python.venv",
    "HOME": "set from user.name", "USER": "set from user.name", "LOGNAME": "set from user.name",
    "http_proxy": "set from network.proxy.http", "HTTP_PROXY": "set from network.proxy.http",
    "https_proxy": "set from network.proxy.https", "HTTPS_PROXY": "set from network.proxy.https",
    "no_proxy": "set from network.proxy.no_proxy", "NO_PROXY": "set from network.proxy.no_proxy",
    "PIP_INDEX_URL": "set from network.pip.index_url", "PIP_EXTRA_INDEX_URL": "set from network.pip.extra_index_urls",
    "PIP_FIND_LINKS": "set from network.wheelhouse", "PIP_NO_INDEX": "set from network.offline",
    "PIP_CERT": "set from network.ca_certificates", "REQUESTS_CA_BUNDLE": "set from network.ca_certificates",
    "SSL_CERT_FILE": "set from network.ca_certificates", "SSL_CERT_DIR": "set from network.ca_certificates",
    "CURL_CA_BUNDLE": "set from network.ca_certificates", "GIT_SSL_CAINFO": "set from network.ca_certificates",
    "NODE_EXTRA_CA_CERTS": "set from network.ca_certificates",
}
# Turn off TLS verification, or make git run programs / read config from the environment
# (which would bypass git.allow_unsafe_config).
WEAKENS_TLS = frozenset({"GIT_SSL_NO_VERIFY", "PYTHONHTTPSVERIFY", "NODE_TLS_REJECT_UNAUTHORIZED",
                         "PIP_TRUSTED_HOST", "CURL_INSECURE"})
GIT_RUNS = ("GIT_SSH", "GIT_SSH_COMMAND", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_EDITOR", "GIT_SEQUENCE_EDITOR",
            "GIT_PAGER", "GIT_EXTERNAL_DIFF", "GIT_PROXY_COMMAND", "GIT_TEMPLATE_DIR", "GIT_EXEC_PATH",
            "GIT_CONFIG_*", "GIT_CONFIG", "GIT_TRACE*")


def env_name_problem(name: str) -> str | None:
    """Why `name` may not be set in a profile's env, or None."""
    upper = name.upper()
    if upper.startswith("TOOLKIT_"):
        return "names starting with TOOLKIT_ are toolkit's own (setup.sh reads them); choose another name"
    if name in BASH_READONLY:
        return "is a read-only bash variable: setup.sh would abort at the assignment; choose another name"
    if name.startswith("BASH") or name in BASH_SPECIAL:
        return "is a special shell variable (bash gives it a meaning of its own); choose another name"
    if name in SET_BY_TOOLKIT:
        return f"toolkit sets it itself ({SET_BY_TOOLKIT[name]}); use that field instead"
    if upper.startswith("LD_") and upper != "LD_LIBRARY_PATH" or upper in ("GLIBC_TUNABLES", "PYTHONHOME"):
        return ("changes how every program (root's installs included) loads; set it in the command that "
                "needs it (LD_LIBRARY_PATH stays allowed)")
    if upper in WEAKENS_TLS:
        return "turns off TLS verification; trust your CA with network.ca_certificates instead"
    if any(fnmatch.fnmatchcase(upper, pattern) for pattern in GIT_RUNS):
        return ("makes git run a program or read extra config; use git.config (such keys need "
                "git.allow_unsafe_config: true)")
    if upper.startswith("ANSIBLE_"):
        return "names starting with ANSIBLE_ change how the playbook runs; choose another name"
    if looks_secret(name):
        return f"looks like a secret; {RUN_TIME_HINT}"
    return None


def env_value_problem(value: str) -> str | None:
    """Why a value may not be stored (a URL with user:password@), or None. Never echoes the value."""
    if "://" in value and "@" in value.split("://", 1)[1].split("/", 1)[0]:
        return f"holds credentials (a URL with user@ or user:password@); {RUN_TIME_HINT}"
    return None


# ----------------------------------------------------------------------------- venv paths
# The venv is created, then handed to its user with `chown -R`: it must be a folder of its own.
# Refused: the FHS top-level folders themselves (SYSTEM_DIRS), everything below a folder the OS or
# a package owns (SYSTEM_TREES: /etc, /usr except /usr/local/NAME, /var/lib, ...; toolkit's own
# /opt/toolkit), and the direct children of folders whose children are someone's data (OWNED_CHILDREN:
# a home, a mount point, /var/www/NAME). Existing folders on hosts are checked again when applied.
SYSTEM_DIRS = frozenset({"/", "/home", "/media", "/mnt", "/opt", "/root", "/srv", "/tmp", "/usr", "/usr/local",
                         "/var", "/workspace", "/workspaces"})
SYSTEM_TREES = ("/bin", "/boot", "/dev", "/efi", "/etc", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/run",
                "/sbin", "/sys", "/snap", "/nix", "/gnu", "/lost+found", "/opt/toolkit",
                "/var/lib", "/var/cache", "/var/log", "/var/spool", "/var/mail", "/var/backups", "/var/crash",
                "/var/lock", "/var/run", "/var/snap")
USR_LOCAL_SYSTEM = frozenset({"bin", "etc", "games", "include", "lib", "lib32", "lib64", "libexec", "man", "sbin",
                              "share", "src"})
OWNED_CHILDREN = frozenset({"/home", "/media", "/mnt", "/var", "/var/opt", "/var/local", "/var/tmp", "/var/www",
                            "/workspaces"})


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def normalised(path: str) -> str:
    norm = posixpath.normpath(path)
    return "/" if norm == "//" else norm


def system_folder(norm: str) -> str | None:
    """Why a normalised path is a system folder or inside one the OS, a package or toolkit owns, or None."""
    if norm in SYSTEM_DIRS:
        return "is a system folder"
    if _under(norm, "/usr/local"):
        if norm.split("/")[3] in USR_LOCAL_SYSTEM:
            return "is inside a folder the operating system searches for programs and libraries"
        return None
    if _under(norm, "/usr") or any(_under(norm, t) for t in SYSTEM_TREES):
        return "is inside a folder the operating system, a package or toolkit owns"
    return None


def venv_path_problem(path: str) -> str | None:
    """Why `path` cannot be the virtual environment (a system folder), or None."""
    norm = normalised(path)
    why = system_folder(norm)
    if why is None and posixpath.dirname(norm) in OWNED_CHILDREN:
        why = f"is a direct child of {posixpath.dirname(norm)} (a home, a mount point or a site's folder)"
    if why is None:
        return None
    return (f"{norm} {why}; the venv is handed to its user with chown -R, so give it a folder of its own "
            "(/opt/venv, /srv/NAME/venv, /home/USER/venv)")


# ----------------------------------------------------------------------------- git config
# Keys that make git run a program, load hooks or templates, or weaken transport security or the
# ownership check. Matched case-insensitively (git's section and variable names are); '*' stands
# for a subsection (which may contain dots).
UNSAFE_GIT_KEYS = (
    "core.editor", "core.pager", "core.sshcommand", "core.gitproxy", "core.askpass", "core.fsmonitor",
    "core.hookspath", "core.alternaterefscommand", "sequence.editor", "init.templatedir", "pager.*",
    "credential.helper", "credential.*.helper", "diff.external", "diff.*.command", "diff.*.textconv",
    "difftool.*.cmd", "difftool.*.path", "merge.*.driver", "mergetool.*.cmd", "mergetool.*.path",
    "filter.*", "gpg.program", "gpg.*.program", "gpg.ssh.defaultkeycommand", "interactive.difffilter",
    "sendemail.*cmd", "sendemail.smtpserver", "web.browser", "browser.*.cmd", "browser.*.path", "man.*.cmd",
    "man.*.path", "guitool.*.cmd", "hook.*", "uploadpack.packobjectshook", "remote.*.uploadpack",
    "remote.*.receivepack", "trace2.*", "protocol.allow", "protocol.*.allow", "safe.directory",
    "http.sslverify", "http.*.sslverify", "http.sslcainfo", "http.*.sslcainfo", "http.sslcapath",
    "http.*.sslcapath", "http.sslversion", "http.*.sslversion", "http.sslcipherlist", "http.*.sslcipherlist",
    "http.proxy", "http.*.proxy", "http.extraheader", "http.*.extraheader", "http.cookiefile",
    "http.*.cookiefile", "http.sslcert", "http.*.sslcert", "http.sslkey", "http.*.sslkey",
)


def unsafe_git_key(key: str) -> bool:
    low = key.lower()
    return any(fnmatch.fnmatchcase(low, pattern) for pattern in UNSAFE_GIT_KEYS)


# ----------------------------------------------------------------------------- requirements
def requirement_problem(spec: str) -> str | None:
    """Why pip (packaging) would refuse `spec`, or None."""
    try:
        Requirement(spec)
    except InvalidRequirement as exc:
        reason = str(exc).splitlines()[0].strip().rstrip(".")
        return (f"pip would refuse this requirement ({reason}); write e.g. numpy>=1.26,<3, numpy==1.26.* or "
                "numpy~=1.26 (~= needs two version parts, .* and +local only after == or !=)")
    return None


def requirement_key(spec: str) -> str | None:
    """The canonical project name a requirement is about (numpy for NumPy>=1), or None."""
    from packaging.utils import canonicalize_name

    try:
        return canonicalize_name(Requirement(spec).name)
    except InvalidRequirement:
        return None


def apt_key(spec: str) -> str:
    return spec.split("=", 1)[0].lower()
