"""PyTorch, TensorFlow, Keras and JAX, with the versions and wheel index the resolver chose."""

from __future__ import annotations

from toolkit.components.base import Context, Contribution
from toolkit.components.packages import pip_checks
from toolkit.components.python import pip_source
from toolkit.model.checks import check
from toolkit.model.steps import PipInstall


def contribute(ctx: Context) -> Contribution:
    out = Contribution()
    fw, res, t = ctx.profile.frameworks, ctx.resolution, ctx.target
    py = f"{t.venv}/bin/python"
    source = pip_source(ctx)
    if fw.pytorch:
        reqs = tuple(res.torch_requirements)  # torch and its companions, as the resolver paired them
        torch_source = dict(source)
        if res.torch_index_url and not source["no_index"]:  # None: the PyPI wheel is the wanted build
            torch_source["index_url"] = res.torch_index_url
        out.steps.append(PipInstall("pytorch", f"PyTorch ({res.torch_variant})", venv=t.venv,
                                    requirements=reqs, **torch_source))
        out.checks += pip_checks("pytorch", t.venv, reqs)
        out.checks.append(check("torch_cuda", "pytorch", f"torch built for CUDA {res.cuda or 'none (CPU)'}",
                                python=py, cuda=res.cuda if t.gpu else None))
        out.checks.append(check("shm", "pytorch", "shared memory large enough for DataLoader workers",
                                min_mb=512))
        if t.gpu:
            out.checks.append(check("torch_gpu", "pytorch", "torch sees every GPU", tier="gpu", python=py))
            out.checks.append(check("torch_matmul", "pytorch", "a matmul on every GPU matches the CPU result",
                                    tier="gpu", python=py))
    tf_reqs = tuple(r for r in (res.tensorflow_requirement,) if r) + (
        tuple(res.cuda_pip_packages) if fw.tensorflow else ())
    if res.keras_requirement:
        tf_reqs += (res.keras_requirement,)
    if tf_reqs:
        out.steps.append(PipInstall("tensorflow", "TensorFlow / Keras", venv=t.venv, requirements=tf_reqs, **source))
        out.checks += pip_checks("tensorflow", t.venv, [r for r in tf_reqs if not r.startswith("nvidia-")])
        if fw.tensorflow:
            out.checks.append(check("tensorflow_build", "tensorflow", "TensorFlow build info matches the profile",
                                    python=py, cuda=res.cuda if t.gpu else None,
                                    cudnn=res.cudnn if t.gpu else None))
            if t.gpu:
                out.checks.append(check("tensorflow_gpu", "tensorflow", "TensorFlow lists a GPU device",
                                        tier="gpu", python=py))
    if res.jax_requirement:
        out.steps.append(PipInstall("jax", "JAX", venv=t.venv, requirements=(res.jax_requirement,), **source))
        out.checks += pip_checks("jax", t.venv, [res.jax_requirement])
    return out
