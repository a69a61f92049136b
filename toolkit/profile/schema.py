"""JSON Schema (draft 2020-12) of the profile format, for editors (yaml-language-server)."""

from __future__ import annotations

from toolkit.profile import patterns as P
from toolkit.profile.model import Profile

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def json_schema() -> dict:
    schema = Profile.model_json_schema(mode="validation")
    schema["$schema"] = DIALECT
    schema["$id"] = "https://toolkit.invalid/schema/profile.schema.json"
    schema["title"] = "toolkit profile"
    _add_patterns(schema)
    return schema


# pydantic cannot see patterns behind AfterValidators; add them so editors check the same rules.
FIELD_PATTERNS = {
    ("Profile", "name"): P.PROFILE_NAME, ("Profile", "extends"): P.LOCAL_PATH,
    ("OS", "version"): P.VERSION, ("OS", "base_image"): P.IMAGE_REF,
    ("Python", "venv"): P.ABS_PATH, ("User", "name"): P.UNIX_NAME, ("User", "shell"): P.ABS_PATH,
    ("PyTorch", "version"): P.VERSION, ("TensorFlow", "version"): P.VERSION, ("Keras", "version"): P.VERSION,
    ("Jax", "version"): P.VERSION, ("Network", "apt_mirror"): P.URL, ("Network", "wheelhouse"): P.LOCAL_PATH,
    ("JupyterProxy", "cert"): P.LOCAL_PATH, ("JupyterProxy", "key"): P.LOCAL_PATH,
    ("PipIndex", "index_url"): P.URL, ("Proxy", "http"): P.URL, ("Proxy", "https"): P.URL,
    ("ExtraCheck", "name"): P.PROFILE_NAME, ("ExtraCheck", "expect"): P.SAFE_TEXT,
}
ITEM_PATTERNS = {
    ("Packages", "apt"): P.APT_PACKAGE, ("Packages", "pip"): P.PIP_REQUIREMENT, ("Packages", "pip_base"): P.PIP_REQUIREMENT,
    ("Network", "ca_certificates"): P.LOCAL_PATH, ("PipIndex", "extra_index_urls"): P.URL,
    ("Proxy", "no_proxy"): P.NO_PROXY_ENTRY, ("ExtraCheck", "command"): P.CHECK_ARG,
}
# Free text: no C0/C1 controls, DEL, bidi/zero-width format characters or line separators
# (a subset of the Python rule, which also refuses other format and unassigned code points).
FREE_TEXT = ("^[^\\u0000-\\u001f\\u007f-\\u009f\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff]"
             f"{{0,{P.FREE_TEXT_MAX}}}(?!\n)$")
MAP_PATTERNS = {("Profile", "env"): (P.ENV_NAME, P.ENV_VALUE), ("Git", "config"): (P.GIT_CONFIG_KEY, P.SAFE_TEXT)}


def _js(pattern) -> str:
    # `(?!\n)` keeps Python-based validators (which search, where `$` also matches before a
    # final newline) as strict as ECMA-262's `$`; both dialects accept the lookahead.
    text = pattern.pattern
    return text[:-1] + "(?!\n)$" if text.endswith("$") else text


def _string_schema(prop: dict) -> dict:
    if prop.get("type") == "string":
        return prop
    for alt in prop.get("anyOf", []):
        if alt.get("type") == "string":
            return alt
    return prop


def _add_patterns(schema: dict) -> None:
    defs = dict(schema.get("$defs", {}))
    defs["Profile"] = schema
    for (model, field), pattern in FIELD_PATTERNS.items():
        prop = defs[model]["properties"][field]
        _string_schema(prop)["pattern"] = _js(pattern)
    for (model, field), pattern in ITEM_PATTERNS.items():
        prop = defs[model]["properties"][field]
        prop["items"]["pattern"] = _js(pattern)
    for (model, field), (kp, vp) in MAP_PATTERNS.items():
        prop = defs[model]["properties"][field]
        prop["propertyNames"] = {"pattern": _js(kp)}
        prop["additionalProperties"]["pattern"] = _js(vp)
    defs["Profile"]["properties"]["description"]["pattern"] = FREE_TEXT
    for model, field, extra in (("GPU", "cuda", "auto"), ("GPU", "cudnn", "auto"), ("Python", "version", "system")):
        prop = defs[model]["properties"][field]
        prop["pattern"] = f"^(?:{extra}|{P.VERSION.pattern[1:-1]})(?!\n)$"
