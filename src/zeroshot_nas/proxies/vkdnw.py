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

Per-image Jacobians are formed here from one forward pass and backward passes: each selected
entry θ_j gets a per-image perturbation d_j (zero) added to its module's output along the
module's own derivative ∂out/∂θ_j (forward mode, local), so ∂logits_b/∂d_jb = ∂logits_b/∂θ_j
exactly, for any module that owns the parameter; one backward pass per logit then gives that
logit's row for every image at once (eval-mode BatchNorm keeps the images independent). L's
last column is 0, so the last logit's row is never read: K − 1 passes. When the logits are a
linear head's output of fewer features h than that (NB201's 64 pooled features for 100 or 120
classes), one pass per feature gives ∂h/∂θ and J = W ∂h/∂θ. They vmap ``jacrev`` over images
instead; the numbers are the same. Float64 from the Jacobian on (theirs: float32).
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .registry import register

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .context import ArchContext

SOURCE = ("ondratybl/VKDNW@6901b65fc68c89c163e8e5d9ba0410926f36870e "
          "NB201/ZeroShotProxy/compute_vkdnw_score.py")
# How their paper's "VKDNW_single" ranks: get_scores' (vkdnw_dim, vkdnw_entropy) tuple, vkdnw_dim
# = len(list(model.named_parameters())) in compute_vkdnw_score.py.
SINGLE_SOURCE = ("ondratybl/VKDNW@9a15fe16a127714b2c5bda7e8410a47bbf4a82b9 NB201/tss_utils.py "
                 "(get_scores, vkdnw_rank)")
N_TENSORS = 128  # their params_grad_len
# Images per perturbed forward: at batch 256 one forward of the largest NB201 cell held 3.5 GB
# for its backward passes; 64 (the CPU presets' batch, so one forward there) holds a quarter.
IMAGES_PER_FORWARD = 64
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


@dataclass
class Tangent:
    """∂out/∂θ_j of one module output: ``values`` is the whole derivative (``axis`` None), or,
    where the entry moves one output channel only (``axis`` the channel axis), that channel's
    slice, index 0 along ``axis``: the other channels' derivative is 0, so they are not kept."""

    values: torch.Tensor
    axis: int | None = None

    def full(self, shape: torch.Size) -> torch.Tensor:
        """The derivative at the output's shape (the other channels 0)."""
        if self.axis is None:
            return self.values
        out = self.values.new_zeros(shape)
        out.narrow(self.axis, 0, 1).copy_(self.values)
        return out

    def perturb(self, out: torch.Tensor, d: torch.Tensor) -> torch.Tensor:
        """``out`` + d_b · ∂out/∂θ_j for each image b (d zero: the value is ``out``)."""
        import torch

        d = d.view((out.shape[0],) + (1,) * (out.dim() - 1))
        if self.axis is None:
            return out + d * self.values
        first = out.narrow(self.axis, 0, 1) + d * self.values
        rest = out.narrow(self.axis, 1, out.shape[self.axis] - 1)
        return torch.cat([first, rest], dim=self.axis)


def local_tangent(module: nn.Module, local: str, inputs: tuple, out: torch.Tensor) -> Tangent:
    """∂module(inputs)/∂(first entry of its parameter ``local``): written out for Conv2d,
    Linear and eval-mode BatchNorm running their own forward (the entry moves output channel
    0 only, so only that channel is returned), by forward-mode AD of the module for anything
    else (subclasses included)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from .network import BN_TYPES

    conv, linear = standard(module, nn.Conv2d), standard(module, nn.Linear)
    bn = any(standard(module, base) for base in BN_TYPES)
    x = inputs[0].detach() if inputs and torch.is_tensor(inputs[0]) else None
    # Output channels: dimension 1 of a convolution's or BatchNorm's output, the last of a
    # Linear's.
    axis = out.dim() - 1 if linear else 1
    if local == "bias" and (conv or linear or bn):
        one_channel = out.shape[:axis] + (1,) + out.shape[axis + 1:]
        return Tangent(out.detach().new_ones(()).expand(one_channel), axis)
    if local == "weight" and conv and module.padding_mode == "zeros":
        kernel = x.new_zeros((1, 1, *module.kernel_size))
        kernel.view(-1)[0] = 1.0
        return Tangent(F.conv2d(x[:, :1], kernel, stride=module.stride,
                                padding=module.padding, dilation=module.dilation), axis)
    if local == "weight" and linear:
        return Tangent(x[..., :1], axis)
    if local == "weight" and bn and not module.training:
        scale = torch.sqrt(module.running_var[0] + module.eps)
        return Tangent((x[:, :1] - module.running_mean[0]) / scale, axis)
    return Tangent(forward_mode_tangent(module, local, inputs))


def standard(module: nn.Module, base: type) -> bool:
    """``module`` is a ``base`` that runs ``base``'s own forward (a subclass may compute
    something else from the same parameters)."""
    return isinstance(module, base) and type(module).forward is base.forward


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


@dataclass
class Perturbation:
    """A zero per-image scalar ``d`` (B,) added to a module's output along ``tangent``, the
    derivative of that output by the selected entry of column ``column``: ∂out/∂d_b is the
    entry's derivative for image b."""

    column: int
    d: torch.Tensor
    tangent: Tangent


@dataclass
class PerturbedForward:
    """The eval-mode forward with every selected entry perturbed, and the last ``nn.Linear``
    call (its input, returned output and the perturbations it added), when there is one."""

    logits: torch.Tensor
    perturbations: list[Perturbation]
    head_input: torch.Tensor | None = None
    head_output: torch.Tensor | None = None
    head_weight: torch.Tensor | None = None
    head_perturbations: range = range(0)


def per_image_jacobian(ctx: ArchContext) -> tuple[torch.Tensor, torch.Tensor, int]:
    """(logits (B, K), J (B, K − 1, P) = ∂logits_b/∂θ for the first K − 1 logits, both
    float64, and the number of selected entries whose module never ran, whose columns stay
    0). The last logit's row is left out: the Cholesky factor's last column is 0, so the
    Fisher never reads it."""
    return ctx.shared("vkdnw_jacobian", lambda: _run_jacobian(ctx))


def _perturbed_forward(x: torch.Tensor, net: nn.Module, column: dict[str, int]) -> PerturbedForward:
    import torch
    from torch import nn

    owned = {m: [(column[f"{prefix}.{n}" if prefix else n], n)
                 for n, _ in m.named_parameters(recurse=False)
                 if (f"{prefix}.{n}" if prefix else n) in column]
             for prefix, m in net.named_modules()}
    b = x.shape[0]
    perturbations: list[Perturbation] = []
    head: dict[str, Any] = {}
    busy = [False]  # the local tangent calls the module again: no hook inside it

    def hook(module: nn.Module, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
        if busy[0]:
            return out
        busy[0] = True
        first = len(perturbations)
        try:
            for j, local in owned[module]:
                d = torch.zeros(b, dtype=out.dtype, device=out.device, requires_grad=True)
                tangent = local_tangent(module, local, inputs, out)
                perturbations.append(Perturbation(j, d, tangent))
                out = tangent.perturb(out, d)
        finally:
            busy[0] = False
        if standard(module, nn.Linear):
            head.update(head_input=inputs[0], head_output=out, head_weight=module.weight,
                        head_perturbations=range(first, len(perturbations)))
        return out

    handles = [m.register_forward_hook(hook) for m, entries in owned.items()
               if entries or standard(m, nn.Linear)]
    try:
        with torch.enable_grad(), fresh_eval_batchnorm(net):
            logits = net(x)
    finally:
        for h in handles:
            h.remove()
    return PerturbedForward(logits, perturbations, **head)


def _run_jacobian(ctx: ArchContext) -> tuple[torch.Tensor, torch.Tensor, int]:
    import torch

    net = ctx.network()
    column = selected_parameters(net)
    logits, rows, reached = [], [], set()
    # Eval-mode BatchNorm keeps the images independent, so the batch is taken in slices:
    # the perturbed forward's graph, kept for a backward pass per row, grows with the images.
    for x in ctx.x.split(IMAGES_PER_FORWARD):
        fwd = _perturbed_forward(x, net, column)
        rows.append(_jacobian_rows(fwd, len(column), fwd.logits.shape[1] - 1))
        logits.append(fwd.logits.detach().to(torch.float64))
        reached |= {p.column for p in fwd.perturbations}
        del fwd  # before the next slice's forward: one graph at a time
    return torch.cat(logits), torch.cat(rows), len(column) - len(reached)


def _jacobian_rows(fwd: PerturbedForward, n_columns: int, rows: int) -> torch.Tensor:
    """J (B, rows, P) of the first ``rows`` logits, one backward pass per row, or, when the
    logits are a linear head's output of fewer features h than rows, one backward pass per
    feature: J = W ∂h/∂θ, the head's own entries read from their tangents."""
    import torch

    logits = fwd.logits
    b = logits.shape[0]
    jac = torch.zeros(b, rows, n_columns, dtype=torch.float64, device=logits.device)
    through_head = (fwd.head_output is logits and fwd.head_input is not None
                    and fwd.head_input.dim() == 2 and fwd.head_input.shape[1] < rows)
    if not through_head:
        _pull_back(jac, logits[:, :rows], fwd.perturbations, None)
        return jac
    upstream = [p for i, p in enumerate(fwd.perturbations) if i not in fwd.head_perturbations]
    _pull_back(jac, fwd.head_input, upstream, fwd.head_weight.detach()[:rows])
    for i in fwd.head_perturbations:
        p = fwd.perturbations[i]
        head = p.tangent.full(fwd.head_output.shape)
        jac[:, :, p.column] += head[:, :rows].to(torch.float64)
    return jac


def _pull_back(jac: torch.Tensor, target: torch.Tensor, perturbations: list[Perturbation],
               weight: torch.Tensor | None) -> None:
    """Add to ``jac`` (B, rows, P) the derivatives of ``target`` (B, n) by the perturbations,
    one backward pass per column of ``target``, mapped to the rows by ``weight`` (rows × n;
    None: the target's columns are the rows)."""
    import torch

    if not perturbations or not target.requires_grad:
        return
    n = target.shape[1]
    ds = [p.d for p in perturbations]
    per_column = torch.zeros(target.shape[0], n, jac.shape[2], dtype=torch.float64,
                             device=jac.device)
    for c in range(n):
        grads = torch.autograd.grad(target[:, c].sum(), ds, retain_graph=c < n - 1,
                                    allow_unused=True)
        for p, g in zip(perturbations, grads, strict=True):
            if g is not None:
                per_column[:, c, p.column] += g.to(torch.float64)
    if weight is None:
        jac += per_column
    else:
        jac += torch.einsum("rn,bnp->brp", weight.to(torch.float64), per_column)


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
    # L's last column is 0 (q_K = 0), so L J needs only J's first K − 1 rows.
    m = multinomial_cholesky(logits)[:, :, : jac.shape[1]] @ jac
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
    # 2: only the output channel an entry moves carries its perturbation (half the memory at
    # batch 256); J's sums run over that channel alone, which moved values by up to 4e-8.
    version=2,
)
def vkdnw(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    return _vkdnw_pass(ctx)


def _vkdnw_pass(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    """The entropy and its record, computed once per architecture for both vkdnw scores."""
    return ctx.shared("vkdnw", lambda: _run_vkdnw(ctx))


# The entropy of nine shares is at most log 9: H / (1 + log 9) < 1 never reaches the next
# integer, so ordering by this value is ordering by (tensors, entropy) lexicographically.
_ENTROPY_SCALE = 1.0 + math.log(9.0)


@register(
    "vkdnw_single",
    family="vkdnw",
    higher_is_better=True,
    paper="VKDNW (Týbl & Neumann, CVPR 2025)",
    description="the paper's VKDNW_single ranking: architectures ordered by their number of "
    "parameter tensors, ties broken by vkdnw; value = tensors + vkdnw / (1 + log 9)",
    source=SINGLE_SOURCE,
    version=2,  # vkdnw's version 2
)
def vkdnw_single(ctx: ArchContext) -> tuple[float, dict[str, Any]]:
    entropy, extra = _vkdnw_pass(ctx)
    tensors = extra["parameter_tensors"]
    return tensors + entropy / _ENTROPY_SCALE, {**extra, "vkdnw": entropy}
