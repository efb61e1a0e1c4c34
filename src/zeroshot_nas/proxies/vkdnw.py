"""VKDNW (Týbl & Neumann, CVPR 2025): entropy of the deciles of the Fisher information's
eigenvalues, as ``ondratybl/VKDNW`` ``NB201/ZeroShotProxy/compute_vkdnw_score.py`` computes it.

Their code, step by step (the NB201 version; ``p=1``, the first entry of each tensor, which is
their earlier fixed ``param_idx=0`` and the MobileNetV2 version's choice):

1. θ = the first entry of each of the first 128 parameter tensors (``named_parameters``
   order); the network in eval mode (BatchNorm with its running statistics, those of a
   freshly built network: mean 0, variance 1), so every image is scored on its own;
2. per image b, J_b = ∂logits_b/∂θ (K × P);
3. L_b = the Cholesky factor of the multinomial covariance diag(p) − p pᵀ of the smoothed
   softmax p = 0.95·softmax + 0.05/K (Tanabe & Sagae's closed form; their smoothing constants
   are float16 numbers, 1 − α = 0.9501953125 and α/K rounded to float16, kept here);
4. F = mean_b (L_b J_b)ᵀ (L_b J_b), P × P. (This is J_bᵀ L_bᵀ L_b J_b; the Fisher
   information of the text would be J_bᵀ L_b L_bᵀ J_b. We follow the code, whose numbers the
   paper reports.)
5. λ = the singular values of F; their deciles q_0.1 … q_0.9 (``torch.quantile``, linear);
   t = q / (Σ q + 1e-10); VKDNW = −Σ t log(t + 1e-10). Higher is better.

Per-image Jacobians are formed here from one forward and K backward passes: each selected
entry θ_j gets a per-image perturbation d_j (zero) added to its module's output along the
module's own derivative ∂out/∂θ_j (forward mode, local), so ∂logits_b/∂d_jb = ∂logits_b/∂θ_j
exactly, for any module that owns the parameter. They vmap ``jacrev`` over images instead;
the numbers are the same. Float64 from the Jacobian on (theirs: float32).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .context import ArchContext

SOURCE = ("ondratybl/VKDNW@6901b65fc68c89c163e8e5d9ba0410926f36870e "
          "NB201/ZeroShotProxy/compute_vkdnw_score.py")
N_TENSORS = 128  # their params_grad_len
EPS = 1e-10


@contextmanager
def fresh_eval_batchnorm(net: nn.Module):
    """The network in eval mode with every BatchNorm's running statistics at their values
    in a freshly built network (mean 0, variance 1); modes and statistics are restored.

    Eval mode keeps every image independent of the others, which per-image Jacobians need;
    the fresh statistics make the value independent of the forwards other scores ran before
    (train-mode forwards update the running statistics)."""
    import torch

    from .network import BN_TYPES

    bns = [m for m in net.modules() if isinstance(m, BN_TYPES)]
    coupled = [type(m).__name__ for m in bns if m.running_mean is None]
    if coupled:
        raise ValueError("vkdnw scores every image on its own, but BatchNorm without running "
                         f"statistics ({coupled[0]}) normalises with the batch's")
    saved = [(m.running_mean, m.running_var) for m in bns]
    modes = {m: m.training for m in net.modules()}
    try:
        for m in bns:
            m.running_mean = torch.zeros_like(m.running_mean)
            m.running_var = torch.ones_like(m.running_var)
        net.eval()
        yield
    finally:
        for m, (mean, var) in zip(bns, saved, strict=True):
            m.running_mean, m.running_var = mean, var
        for m, training in modes.items():
            m.training = training


def selected_parameters(net: nn.Module) -> dict[str, int]:
    """Names of the first :data:`N_TENSORS` parameter tensors → their column in J."""
    names = [name for name, _ in net.named_parameters()][:N_TENSORS]
    return {name: j for j, name in enumerate(names)}


def local_tangent(module: nn.Module, local: str, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
    """∂module(inputs)/∂(first entry of its parameter ``local``): written out for Conv2d,
    Linear and eval-mode BatchNorm (the entry moves output channel 0 only), by forward-mode
    AD of the module for anything else."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from .network import BN_TYPES

    x = inputs[0].detach() if inputs and torch.is_tensor(inputs[0]) else None
    t = torch.zeros_like(out.detach())
    if local == "bias" and isinstance(module, (nn.Conv2d, nn.Linear, *BN_TYPES)):
        t[:, 0] = 1.0
        return t
    if local == "weight" and isinstance(module, nn.Conv2d) and module.padding_mode == "zeros":
        kernel = x.new_zeros((1, 1, *module.kernel_size))
        kernel.view(-1)[0] = 1.0
        t[:, :1] = F.conv2d(x[:, :1], kernel, stride=module.stride, padding=module.padding,
                            dilation=module.dilation)
        return t
    if local == "weight" and isinstance(module, nn.Linear):
        t[..., 0] = x[..., 0]
        return t
    if local == "weight" and isinstance(module, BN_TYPES) and not module.training:
        t[:, 0] = (x[:, 0] - module.running_mean[0]) / torch.sqrt(module.running_var[0] + module.eps)
        return t
    return forward_mode_tangent(module, local, inputs)


def forward_mode_tangent(module: nn.Module, local: str, inputs: tuple) -> torch.Tensor:
    """∂module(inputs)/∂(first entry of its parameter ``local``), by forward-mode AD."""
    import torch
    from torch.func import functional_call, jvp

    p = getattr(module, local).detach()
    direction = torch.zeros_like(p)
    direction.view(-1)[0] = 1.0
    args = tuple(a.detach() if torch.is_tensor(a) else a for a in inputs)
    _, tangent = jvp(lambda w: functional_call(module, {local: w}, args), (p,), (direction,))
    return tangent.detach()


def per_image_jacobian(ctx: ArchContext) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(logits (B, K), J (B, K, P) = ∂logits_b/∂θ, both float64, and the number of selected
    entries whose module never ran, whose columns stay 0)."""
    return ctx.shared("vkdnw_jacobian", lambda: _run_jacobian(ctx))


def _run_jacobian(ctx: ArchContext) -> tuple[torch.Tensor, torch.Tensor, int]:
    import torch

    net = ctx.network()
    column = selected_parameters(net)
    owned = {m: [(column[f"{prefix}.{n}" if prefix else n], n)
                 for n, _ in m.named_parameters(recurse=False)
                 if (f"{prefix}.{n}" if prefix else n) in column]
             for prefix, m in net.named_modules()}
    b = ctx.x.shape[0]
    perturbations: list[tuple[int, torch.Tensor]] = []
    busy = [False]  # the local tangent calls the module again: no hook inside it

    def hook(module: nn.Module, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
        if busy[0]:
            return out
        busy[0] = True
        try:
            for j, local in owned[module]:
                d = torch.zeros(b, dtype=out.dtype, device=out.device, requires_grad=True)
                perturbations.append((j, d))
                shape = (b,) + (1,) * (out.dim() - 1)
                out = out + d.view(shape) * local_tangent(module, local, inputs, out)
        finally:
            busy[0] = False
        return out

    handles = [m.register_forward_hook(hook) for m, entries in owned.items() if entries]
    try:
        with torch.enable_grad(), fresh_eval_batchnorm(net):
            logits = net(ctx.x)
    finally:
        for h in handles:
            h.remove()
    jac = torch.zeros(b, logits.shape[1], len(column), dtype=torch.float64, device=ctx.device)
    ds = [d for _, d in perturbations]
    for k in range(logits.shape[1]):
        grads = torch.autograd.grad(logits[:, k].sum(), ds, retain_graph=k < logits.shape[1] - 1,
                                    allow_unused=True)
        for (j, _), g in zip(perturbations, grads, strict=True):
            if g is not None:
                jac[:, k, j] += g.to(torch.float64)
    uncovered = len(column) - len({j for j, _ in perturbations})
    return logits.detach().to(torch.float64), jac, uncovered


def multinomial_cholesky(logits: torch.Tensor) -> torch.Tensor:
    """Per image, the lower-triangular L with L Lᵀ = diag(p) − p pᵀ for their smoothed
    softmax p (float16 smoothing constants as in their code; the last column is 0)."""
    import torch

    k = logits.shape[1]
    alpha = torch.tensor(0.05, dtype=torch.float16)
    p = torch.softmax(logits, dim=1) * float(1 - alpha) + float(alpha / k)
    q = 1.0 - torch.cumsum(p, dim=1)
    q[:, -1] = 0.0
    q_prev = torch.cat([torch.ones_like(q[:, :1]), q[:, :-1]], dim=1)
    d = torch.sqrt(p * q / q_prev)
    # −p_i/q_j below the diagonal; column K−1 (q = 0, their nan_to_num to 0) has no entry
    # below the diagonal, so its −inf is masked out here.
    below = torch.tril(-p[:, :, None] / q[:, None, :], -1)
    eye = torch.eye(k, dtype=p.dtype, device=p.device)
    return (below + eye) * d[:, None, :]


def decile_entropy(eigenvalues: torch.Tensor) -> float:
    """−Σ t log(t + 1e-10), t = the deciles 0.1…0.9 of the eigenvalues over their sum."""
    import torch

    # Their decile levels: torch.arange(0.1, 1., 0.1) in float32.
    levels = torch.arange(0.1, 1.0, 0.1).to(eigenvalues)
    deciles = torch.quantile(eigenvalues, levels)
    t = deciles / (float(deciles.abs().sum()) + EPS)
    return float(-(t * torch.log(t + EPS)).sum())


def _run_vkdnw(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    import torch

    logits, jac, uncovered = per_image_jacobian(ctx)
    m = multinomial_cholesky(logits) @ jac
    fisher = torch.einsum("bkp,bkq->pq", m, m) / m.shape[0]
    # Singular values of the symmetric F = |eigenvalues|.
    eig = torch.linalg.eigvalsh(fisher).abs()
    value = decile_entropy(eig)
    extra = {"entries": int(jac.shape[2]), "entries_not_reached": uncovered,
             "parameter_tensors": len(list(ctx.network().parameters())),
             "lambda_max": float(eig.max()), "zero_fisher": bool(float(eig.max()) == 0.0)}
    return value, extra


@register(
    "vkdnw",
    family="vkdnw",
    higher_is_better=True,
    paper="VKDNW (Týbl & Neumann, CVPR 2025)",
    description="entropy of the deciles of the eigenvalues of F = mean_b (L_b J_b)ᵀ(L_b J_b), "
    "J_b = ∂logits/∂(first entry of the first 128 parameter tensors), L_b the Cholesky factor "
    "of the smoothed softmax covariance; eval-mode BN with fresh statistics",
    source=SOURCE,
)
def vkdnw(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return _run_vkdnw(ctx)
