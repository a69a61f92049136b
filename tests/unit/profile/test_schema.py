"""`toolkit schema`: a valid draft 2020-12 schema that accepts bundled profiles and rejects the corpus."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from toolkit.commands.profile_cmds import schema as schema_cmd
from toolkit.profile.bundled import list_bundled
from toolkit.profile.schema import json_schema

ROOT = Path(__file__).resolve().parents[3]
CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture(scope="module")
def validator():
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_cli_prints_the_schema():
    result = CliRunner().invoke(schema_cmd, [])
    assert result.exit_code == 0
    assert json.loads(result.output)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", [p for _, _, p in list_bundled()], ids=lambda p: p.stem)
def test_schema_accepts_bundled_profiles(validator, path):
    doc = yaml.safe_load(path.read_text())
    assert not list(validator.iter_errors(doc))
    assert path.read_text().startswith("# yaml-language-server: $schema=../schema/profile.schema.json")


def schema_cases():
    for path in sorted(CORPUS.glob("*.yaml")):
        if "# schema-rejects: yes" in path.read_text():
            yield path


@pytest.mark.parametrize("path", list(schema_cases()), ids=lambda p: p.stem)
def test_schema_rejects_corpus_schema_errors(validator, path):
    doc = yaml.safe_load(path.read_text())
    assert list(validator.iter_errors(doc)), f"{path.name} should be rejected by the schema"


def test_committed_schema_is_current():
    committed = ROOT / "schema" / "profile.schema.json"
    current = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
    assert committed.read_text() == current, "schema/profile.schema.json is stale: run `toolkit schema > schema/profile.schema.json`"
