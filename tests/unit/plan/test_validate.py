"""Plan-level rules: one process owns an image's CMD."""

from __future__ import annotations

import dataclasses

import pytest

from toolkit.cli import main
from toolkit.components import tools
from toolkit.errors import EXIT_INVALID, ProfileError
from toolkit.model.steps import Service
from toolkit.plan.builder import build_plan
from toolkit.plan.validate import validate
from toolkit.profile.loader import load_profile


def _with_second_service(monkeypatch, name="tensorboard"):
    """tools.jupyter contributing one more Service, as a second service component would."""
    original = tools.jupyter

    def jupyter_and_another(ctx):
        out = original(ctx)
        out.steps.append(Service("tensorboard", "TensorBoard", name=name, command=("tensorboard", "--logdir", "/logs"),
                                 port=6006))
        return out

    monkeypatch.setattr(tools, "jupyter", jupyter_and_another)


def test_one_service_is_fine():
    plan = build_plan(load_profile("datascience-cpu"))
    assert sum(isinstance(s, Service) for s in plan.steps) == 1


def test_two_services_are_refused_naming_both(monkeypatch):
    _with_second_service(monkeypatch)
    with pytest.raises(ProfileError) as exc:
        build_plan(load_profile("datascience-cpu"))
    assert exc.value.exit_code == EXIT_INVALID
    text = exc.value.render()
    assert "'jupyter' (from jupyter)" in text and "'tensorboard' (from tensorboard)" in text
    assert "CMD" in text and "keep one service" in text


def test_validate_on_a_plan_built_by_hand():
    loaded = load_profile("datascience-cpu")
    plan = build_plan(loaded)
    service = next(s for s in plan.steps if isinstance(s, Service))
    doubled = dataclasses.replace(plan, steps=plan.steps + (dataclasses.replace(service, name="second"),))
    with pytest.raises(ProfileError, match="2 problems|1 problem"):
        validate(doubled, loaded)
    assert validate(plan, loaded) is plan


@pytest.mark.parametrize("command", [["plan"], ["render", "-o", "OUT"], ["build", "-t", "toolkit-test/x:1"]])
def test_every_command_exits_2_before_writing_or_building(monkeypatch, capsys, tmp_path, command):
    _with_second_service(monkeypatch)
    argv = [command[0], "datascience-cpu", *[str(tmp_path / "out") if a == "OUT" else a for a in command[1:]]]
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == EXIT_INVALID
    err = capsys.readouterr().err
    assert "tensorboard" in err and "jupyter" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_host_only_services_do_not_own_the_cmd(monkeypatch):
    """Service.in_image says which service owns the image's CMD; host-only units (systemd) do not count."""
    original = tools.jupyter

    def jupyter_and_a_host_unit(ctx):
        out = original(ctx)
        out.steps.append(Service("tensorboard", "TensorBoard", name="tensorboard", command=("tensorboard",),
                                 in_image=False, enable_on_host=True))
        return out

    monkeypatch.setattr(tools, "jupyter", jupyter_and_a_host_unit)
    plan = build_plan(load_profile("datascience-cpu"))
    assert [s.name for s in plan.steps if isinstance(s, Service) and s.in_image] == ["jupyter"]
