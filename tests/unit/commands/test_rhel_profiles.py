"""The bundled Rocky Linux / AlmaLinux variants through the CLI: plan --explain says why the image and the
Python were chosen, and `toolkit lock` (apt only) refuses them by name instead of running apt there."""

from __future__ import annotations

import pytest

from toolkit.cli import main


def run(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


def test_alma_gpu_variant_starts_from_almalinux_itself(capsys):
    # pip brings torch's CUDA libraries: the plain OS image, AlmaLinux's own (no nvidia/cuda tag needed)
    code, text = run(["plan", "pytorch-cuda-alma9", "--explain"], capsys)
    assert code == 0, text
    assert "target: almalinux 9, image almalinux:9" in text
    assert "gpu.base_flavour = plain OS image + NVIDIA container variables" in text


def test_alma_gpu_with_nvcc_explains_its_rockylinux_image(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text("name: a9\nextends: pytorch-cuda-alma9\ngpu: {nvcc: true}\n")
    code, text = run(["plan", str(tmp_path / "p.yaml"), "--explain"], capsys)
    assert code == 0, text
    assert "target: almalinux 9, image nvidia/cuda:12.6.3-devel-rockylinux9" in text
    assert "nvidia/cuda publishes no almalinux tags: its rockylinux images are the same RHEL 9 rebuild" in text
    assert "DnfPackages: OS packages" in text and "the system Python of almalinux 9" in text


def test_rocky_cpu_variant_uses_rockys_own_image(capsys):
    code, text = run(["plan", "datascience-cpu-rocky9", "--explain"], capsys)
    assert code == 0, text
    assert "os.base_image = rockylinux/rockylinux:9" in text and "python 3.9" in text


def test_rocky8_python_from_the_os_packages(tmp_path, capsys):
    (tmp_path / "p.yaml").write_text("name: r8\nos: {distro: rocky, version: '8'}\npython: {version: '3.11'}\n"
                                     "frameworks: {pytorch: {version: '2.7.1'}}\n")
    code, text = run(["plan", str(tmp_path / "p.yaml"), "--explain"], capsys)
    assert code == 0, text
    assert "rocky 8 packages python3.11 beside its system Python 3.6" in text
    (tmp_path / "q.yaml").write_text("name: r8\nos: {distro: rocky, version: '8'}\n"
                                     "frameworks: {pytorch: {version: '2.7.1'}}\n")
    code, text = run(["plan", str(tmp_path / "q.yaml"), "--explain"], capsys)
    assert code == 0, text
    assert "the system Python 3.6 of rocky 8 is outside the frameworks' range; rocky 8 packages python3.12" in text


def test_lock_refuses_a_rhel_target_by_name(tmp_path, capsys):
    code, text = run(["lock", "datascience-cpu-rocky9", "-o", str(tmp_path / "x.lock")], capsys)
    assert code == 2 and "resolves Debian and Ubuntu targets only, not rocky 9" in text
    assert not (tmp_path / "x.lock").exists()
