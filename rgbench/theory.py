"""Exact predictions of deep-learning theory at initialisation, as values a suite can name.

A prediction's test may name a theory instead of a number::

    - claim: the residual ReLU kernel recursion predicts the input correlation at every depth
      observable: symbol_correlation
      layers: "-1"
      test: {kind: close_to, value: {theory: nngp_residual_relu}, tolerance_se: 3, tolerance_width: 2, replicates: 10}

At scoring time ``THEORY[name]`` computes the predicted value for the case from its resolved spec
(``ds.attrs["spec"]``) and, where the theory takes a measured input (the correlation ρ₀ of the drawn
embeddings, the probe's symbol counts, the input's exact pooled covariance), from the variables that
`theory_variables` stored next to the usual observables. Values are exact: closed forms, or
recursions iterated exactly (the depth-limit ODE by RK4, accurate to ~1e-14).

Theories (``rgbench.theory.THEORY``; formulas and sources in each function's docstring):

=========================== ============================== =====================================
name                        observables                    applies to
=========================== ============================== =====================================
fourth_moment_relu          fourth_moment_ratio            plain, relu, residual: false
nngp_relu                   norm_growth, symbol_correlation plain, relu, residual: false
nngp_residual_relu          norm_growth, symbol_correlation plain relu residual; tokenwise relu, norm none
nngp_residual_relu_limit    norm_growth, symbol_correlation as nngp_residual_relu, depth → ∞
tokenwise_symmetry          effective_rank, kernel_drift   tokenwise, plain (stage init)
pooled_histogram_rank       data_effective_rank_pooled     every input with an exact lag joint
=========================== ============================== =====================================

The measured side (``theory_variables`` in ``rgbench._theory_measure``, called from
``rgbench.measure.measure``) is computed on the networks at init from the symbol table;
architectures that mix positions get none of the per-symbol values.

References
----------
Cho & Saul (2009), "Kernel methods for deep learning", NeurIPS (arc-cosine kernel).
Poole, Lahiri, Raghu, Sohl-Dickstein & Ganguli (2016), "Exponential expressivity in deep neural
networks through transient chaos", NeurIPS; Lee et al. (2018), "Deep neural networks as Gaussian
processes", ICLR (the kernel recursions).
Roberts, Yaida & Hanin (2022), *The Principles of Deep Learning Theory*, CUP, ch. 5 (finite width).
Hayou, Clerico, He, Deligiannidis, Doucet & Rousseau (2021), "Stable ResNet", AISTATS; Li, Nica &
Roy (2021), "The future is log-Gaussian: ResNets and their infinite-depth-and-width limit at
initialization", NeurIPS; Noci et al. (2022), "Signal propagation in transformers", NeurIPS (depth
scaling of the residual branch).
Roy & Vetterli (2007), effective rank; Kornblith et al. (2019), CKA.
"""

from __future__ import annotations

import inspect
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .models import ArchitectureConfig  # (importing rgbench.models registers the architecture kinds, 'plain' among them)
from .registry import closest

if TYPE_CHECKING:
    import xarray as xr

__all__ = [
    "THEORY",
    "Theory",
    "TheoryContext",
    "TheoryNotApplicable",
    "check_theory",
    "predict",
    "arccos_f",
    "relu_correlation_map",
    "residual_correlation_map",
    "iterate_correlation",
    "ode_correlation",
    "fourth_moment_ratio",
    "pooled_covariance",
    "effective_rank_of_covariance",
    "weighting_effective_rank",
]


class TheoryNotApplicable(ValueError):
    """The theory does not describe this case (architecture, stage or stored data); the verdict is ERROR."""


# =============================================================================================
# Exact formulas


def arccos_f(rho: np.ndarray | float) -> np.ndarray | float:
    """f(ρ) = √(1−ρ²) + (π − arccos ρ)·ρ, so that E[relu(u) relu(v)] = √(q_u q_v)·f(ρ)/(2π).

    (u, v) centred jointly Gaussian with variances q_u, q_v and correlation ρ (Cho & Saul 2009,
    degree-1 arc-cosine kernel). f(1) = π, f(0) = 1, f(−1) = 0.
    """
    rho = np.clip(np.asarray(rho, dtype=np.float64), -1.0, 1.0)
    return np.sqrt(np.maximum(1.0 - rho * rho, 0.0)) + (np.pi - np.arccos(rho)) * rho


def relu_correlation_map(rho: np.ndarray | float) -> np.ndarray | float:
    """ρ' = f(ρ)/π: the correlation after h' = W relu(h), W ~ N(0, σ²/n), infinite width (any σ)."""
    return arccos_f(rho) / np.pi


def residual_correlation_map(rho: np.ndarray | float, r: float) -> np.ndarray | float:
    """ρ' = (ρ + r·f(ρ)/π)/(1 + r), r = α²σ_w²/2: the correlation after h' = h + α·W relu(h).

    The branch adds α²σ_w²·√(q_a q_b)·f(ρ)/(2π) to the covariance and α²σ_w² q/2 to each variance; the
    cross term vanishes at init (W independent of h, mean 0). The map does not depend on the norms.
    """
    return (np.asarray(rho, dtype=np.float64) + r * arccos_f(rho) / np.pi) / (1.0 + r)


def iterate_correlation(
    rho0: np.ndarray | float, depth: int, step: Callable[[np.ndarray | float], np.ndarray | float]
) -> np.ndarray:
    """ρ_ℓ = step^ℓ(ρ₀) for ℓ = 0 … depth; shape (depth + 1, *rho0.shape)."""
    rho = np.asarray(rho0, dtype=np.float64)
    out = [rho]
    for _ in range(depth):
        rho = step(rho)
        out.append(rho)
    return np.stack(out)


def ode_correlation(rho0: np.ndarray | float, c: float, times: np.ndarray, *, steps_per_unit: int = 512) -> np.ndarray:
    """Solution of dρ/dt = c·(f(ρ)/π − ρ), ρ(0) = ρ₀, at each of `times` (ascending, ≥ 0), by RK4.

    The α = β/√L limit of the residual recursion: r = c/L per layer with c = β²σ_w²/2, so
    ρ_{ℓ+1} − ρ_ℓ = (c/L)(f(ρ)/π − ρ) + O(L⁻²) and ρ_ℓ → ρ(ℓ/L) (Hayou et al. 2021; Li, Nica & Roy
    2021). RK4 at 512 steps per unit time is accurate to ~1e-14 (checked against scipy in the tests).
    Returns shape (len(times), *rho0.shape).
    """
    rho = np.asarray(rho0, dtype=np.float64).copy()
    times = np.asarray(times, dtype=np.float64)

    def g(p):
        return c * (relu_correlation_map(p) - p)

    out, t = [], 0.0
    for target in times:
        n = max(1, math.ceil((target - t) * steps_per_unit))
        h = (target - t) / n
        for _ in range(n if target > t else 0):
            k1 = g(rho)
            k2 = g(np.minimum(rho + 0.5 * h * k1, 1.0))
            k3 = g(np.minimum(rho + 0.5 * h * k2, 1.0))
            k4 = g(np.minimum(rho + h * k3, 1.0))
            rho = np.minimum(rho + h * (k1 + 2 * k2 + 2 * k3 + k4) / 6.0, 1.0)
        t = max(t, float(target))
        out.append(rho.copy())
    return np.stack(out)


def fourth_moment_ratio(width: int, layers: np.ndarray | int) -> np.ndarray | float:
    """E‖h_ℓ‖⁴ / (E‖h_ℓ‖²)² = (1 + 2/n)(1 + 5/n)^ℓ for the bias-free ReLU stack h_{ℓ+1} = W_ℓ relu(h_ℓ).

    Exact at every width n (Roberts, Yaida & Hanin 2022, ch. 5). Layer 0 is the Gaussian embedding
    h₀ ~ N(0, I_n) (a first Gaussian layer: ‖h₀‖² ~ χ²_n, ratio 1 + 2/n); each ReLU layer then
    multiplies the ratio by E[(Σ_k relu(g_k)²)²]/(n/2)² = 1 + 5/n, g ~ N(0, I_n), and the Gaussian
    preactivations are conditionally independent across layers. The ratio does not depend on σ_w.
    """
    n = float(width)
    return (1.0 + 2.0 / n) * (1.0 + 5.0 / n) ** np.asarray(layers, dtype=np.float64)


def pooled_covariance(lag_joint: Callable[[int], np.ndarray], pi: np.ndarray, length: int) -> np.ndarray:
    """Covariance of the position-mean one-hot histogram h = T⁻¹ Σ_t e_{x_t} of a stationary sequence.

    Σ = T⁻² Σ_{t,s} Cov(e_{x_t}, e_{x_s}) = T⁻² [T·(D − ππᵀ) + Σ_{r=1}^{T−1} (T − r)(J_r + J_rᵀ − 2ππᵀ)],
    J_r(a, b) = P(x_t = a, x_{t+r} = b), D = diag π (docs/science.md, "Data-side pooling
    artifact"). For a sticky chain with uniform π, Σ ∝ I − 𝟙𝟙ᵀ/V at every ξ.
    """
    pi = np.asarray(pi, dtype=np.float64)
    outer = np.outer(pi, pi)
    T = int(length)
    total = T * (np.diag(pi) - outer)
    for r in range(1, T):
        J = np.asarray(lag_joint(r), dtype=np.float64)
        total = total + (T - r) * (J + J.T - 2.0 * outer)
    return total / T**2


def _erank_of_eigenvalues(lam: np.ndarray) -> float:
    """σ-based effective rank from exact covariance eigenvalues λ = σ², as `rgbench.observables`.

    Eigenvalues below 1e-12·λ_max are rounding of an exact zero (e.g. the 𝟙 direction of a centred
    covariance) and count as 0.
    """
    from .observables._rank import _rank_measures_from_eigenvalues

    lam = np.sort(np.clip(np.asarray(lam, dtype=np.float64), 0.0, None))[::-1]
    lam = np.where(lam > lam[0] * 1e-12, lam, 0.0)
    return float(_rank_measures_from_eigenvalues(lam[None])["effective_rank"][0])


def effective_rank_of_covariance(cov: np.ndarray) -> float:
    """erank = exp(−Σ p_k ln p_k), p_k = √λ_k / Σ√λ_j over the eigenvalues λ of a covariance matrix.

    The population value of the σ-based effective rank of N centred samples (singular values
    σ_k = √(N λ_k) as N → ∞; Roy & Vetterli 2007).
    """
    cov = np.asarray(cov, dtype=np.float64)
    return _erank_of_eigenvalues(np.linalg.eigvalsh((cov + cov.T) / 2.0))


def weighting_effective_rank(symbols: np.ndarray, n_symbols: int) -> np.ndarray:
    """Effective rank of the centred one-hot matrix of `symbols` (..., N) over `n_symbols` classes.

    Exact from the counts: the centred one-hot X_c has X_cᵀX_c = N(diag p − ppᵀ), p the empirical
    frequencies, so its singular values are √(N·eig(diag p − ppᵀ)). With k classes of equal counts the
    value is k − 1. Returns shape (...) of `symbols` without its last axis.
    """
    symbols = np.asarray(symbols)
    lead = symbols.shape[:-1]
    flat = symbols.reshape(-1, symbols.shape[-1])
    out = np.empty(flat.shape[0])
    for i, row in enumerate(flat):
        p = np.bincount(row, minlength=n_symbols).astype(np.float64) / row.size
        out[i] = _erank_of_eigenvalues(np.linalg.eigvalsh(np.diag(p) - np.outer(p, p)))
    return out.reshape(lead)


# =============================================================================================
# The registry


@dataclass(frozen=True, eq=False)  # identity equality: never compare the datasets it holds
class TheoryContext:
    """What a theory may read: the observable it predicts, the case's stored dataset and resolved spec."""

    observable: str
    dataset: xr.Dataset
    stage: str | int | None = None
    role: str = "all"

    @property
    def spec(self) -> dict[str, Any]:
        text = self.dataset.attrs.get("spec")
        if not text:
            raise TheoryNotApplicable(
                f"case {self.case!r} carries no resolved spec (`spec` attribute); "
                "theory values are computed from it — rerun the case with this rgbench"
            )
        return json.loads(text) if isinstance(text, str) else dict(text)

    @property
    def architecture(self) -> dict[str, Any]:
        return dict(self.spec["architecture"])

    @property
    def case(self) -> str:
        return str(self.dataset.attrs.get("case_id", "?"))

    def variable(self, name: str) -> xr.DataArray:
        if name not in self.dataset.data_vars:
            raise TheoryNotApplicable(
                f"the theory needs stored variable {name!r}, which case {self.case!r} lacks "
                "(measured by rgbench.theory.theory_variables; rerun the case)"
            )
        return self.dataset[name]


@dataclass(frozen=True)
class Theory:
    """A named exact prediction: which observables it predicts and how (``fn(context) → DataArray``)."""

    name: str
    observables: tuple[str, ...]
    fn: Callable[[TheoryContext], xr.DataArray]
    summary: str
    source: str
    stages: tuple[str, ...] = ("init",)
    doc: str = field(default="", repr=False)


THEORY: dict[str, Theory] = {}


def _register(name: str, observables: tuple[str, ...], source: str, stages: tuple[str, ...] = ("init",)):
    def wrap(fn: Callable[[TheoryContext], xr.DataArray]):
        doc = inspect.cleandoc(fn.__doc__ or "")
        THEORY[name] = Theory(name, observables, fn, doc.splitlines()[0] if doc else name, source, stages, doc)
        return fn

    return wrap


def check_theory(name: str, observable: str | None = None, stage: str | int | None = None) -> None:
    """Raise ValueError (with a did-you-mean) for an unknown theory, or one that does not predict
    `observable` or does not hold at `stage` (the prediction's stage, resolved against the observable's default)."""
    if name not in THEORY:
        close = closest(name, THEORY)
        hint = f"; did you mean {close!r}?" if close else ""
        raise ValueError(f"unknown theory {name!r}{hint} (known: {', '.join(sorted(THEORY))})")
    theory = THEORY[name]
    if observable is not None and observable not in theory.observables:
        raise ValueError(f"theory {name!r} predicts {' | '.join(theory.observables)}, not {observable!r}")
    if stage is not None and stage not in theory.stages:
        raise ValueError(
            f"theory {name!r} holds at stage {' | '.join(theory.stages)}; the prediction reads stage "
            f"{stage!r} — set `stage: {theory.stages[0]}`"
        )


def predict(name: str, context: TheoryContext) -> xr.DataArray:
    """The theory's value for the case and observable of `context`: dims ⊆ (seed, layer | transition)."""
    check_theory(name, context.observable)
    out = THEORY[name].fn(context)
    out.attrs.update(theory=name, summary=THEORY[name].summary, source=THEORY[name].source)
    return out


# ---------------------------------------------------------------------------------------------
# Helpers shared by the theories


def _init_only(ctx: TheoryContext) -> None:
    if ctx.stage not in (None, "init"):
        raise TheoryNotApplicable(f"the theory describes networks at initialisation; the prediction reads stage {ctx.stage!r}")
    if ctx.role != "all":
        raise TheoryNotApplicable(f"the theory predicts the observable over all positions; got role {ctx.role!r}")


def _residual_relu(arch: dict[str, Any]) -> float:
    """σ_w² of the residual ReLU recursion for this architecture, or TheoryNotApplicable."""
    kind = arch.get("kind")
    if arch.get("activation") != "relu":
        raise TheoryNotApplicable(f"the residual ReLU recursion needs activation relu; the case uses {arch.get('activation')!r}")
    if kind == "plain":
        if not arch.get("residual"):
            raise TheoryNotApplicable("a plain stack with residual: false follows theory 'nngp_relu', not the residual recursion")
        return float(arch["init_scale"]) ** 2
    if kind == "tokenwise":
        if arch.get("norm") != "none":
            raise TheoryNotApplicable(
                f"the residual ReLU recursion holds without normalisation; the case uses norm {arch.get('norm')!r}"
            )
        # Branch W₂ relu(W₁ h), W₁ ~ N(0, s²/d), W₂ ~ N(0, s²/hidden): variance gain s²·s²/2 = σ_w²/2 with σ_w² = s⁴.
        return float(arch["init_scale"]) ** 4
    raise TheoryNotApplicable(
        f"the residual ReLU recursion is for kinds plain (residual: true) and tokenwise (norm none, relu); the case is {kind!r}"
    )


def _plain_relu(arch: dict[str, Any]) -> float:
    if arch.get("kind") != "plain" or arch.get("residual") or arch.get("activation") != "relu":
        raise TheoryNotApplicable(
            f"the theory is for kind plain with residual: false and activation relu; the case is "
            f"{arch.get('kind')!r} (residual {arch.get('residual')!r}, activation {arch.get('activation')!r})"
        )
    return float(arch["init_scale"]) ** 2


def _pairs(ctx: TheoryContext) -> np.ndarray:
    """ρ₀ of every symbol pair a < b per seed, from the stored layer-0 cosines: (seed, pair)."""
    return ctx.variable("init_input_correlation").transpose("seed", "pair").values.astype(np.float64)


def _along_layer(ctx: TheoryContext, values: np.ndarray, per_seed: bool) -> xr.DataArray:
    """Wrap (layer,) or (seed, layer) values with the dataset's coordinates."""
    import xarray as xr

    ds = ctx.dataset
    layer = ds["layer"].values if "layer" in ds.coords else np.arange(values.shape[-1])
    if per_seed:
        return xr.DataArray(values, dims=("seed", "layer"), coords={"seed": ds["seed"].values, "layer": layer})
    return xr.DataArray(values, dims=("layer",), coords={"layer": layer})


def _correlation_theory(ctx: TheoryContext, trajectory: Callable[[np.ndarray], np.ndarray]) -> xr.DataArray:
    """Mean over symbol pairs of a per-pair trajectory ρ_ℓ(ρ₀): (layer, seed, pair) → (seed, layer)."""
    rho = trajectory(_pairs(ctx))  # (layer, seed, pair)
    return _along_layer(ctx, rho.mean(axis=-1).T, per_seed=True)


# ---------------------------------------------------------------------------------------------
# The theories


@_register(
    "fourth_moment_relu", ("fourth_moment_ratio",), "Roberts, Yaida & Hanin (2022), The Principles of Deep Learning Theory, ch. 5"
)
def _fourth_moment_relu(ctx: TheoryContext) -> xr.DataArray:
    """E‖h_ℓ‖⁴/(E‖h_ℓ‖²)² = (1+2/n)(1+5/n)^ℓ of a bias-free ReLU stack at init, exact at width n.

    Layer ℓ of the stream has passed the Gaussian embedding and ℓ ReLU layers, i.e. it is the
    (ℓ+1)-th preactivation of the book's (1+2/n)(1+5/n)^(L−1). Independent of σ_w.
    """
    _init_only(ctx)
    arch = ctx.architecture
    _plain_relu(arch)
    layers = np.arange(int(arch["depth"]) + 1)
    return _along_layer(ctx, fourth_moment_ratio(int(arch["width"]), layers), per_seed=False)


@_register("nngp_relu", ("norm_growth", "symbol_correlation"), "Cho & Saul (2009); Poole et al. (2016); Lee et al. (2018)")
def _nngp_relu(ctx: TheoryContext) -> xr.DataArray:
    """Infinite-width kernel of h' = W relu(h), W ~ N(0, σ_w²/n): q_ℓ/q₀ = (σ_w²/2)^ℓ, ρ_{ℓ+1} = f(ρ_ℓ)/π.

    f(ρ) = √(1−ρ²) + (π − arccos ρ)ρ. The correlation starts from each symbol pair's measured
    embedding correlation ρ₀ and is averaged over pairs like the observable.
    """
    _init_only(ctx)
    arch = ctx.architecture
    sw2, depth = _plain_relu(arch), int(arch["depth"])
    if ctx.observable == "norm_growth":
        return _along_layer(ctx, (sw2 / 2.0) ** np.arange(depth + 1.0), per_seed=False)
    return _correlation_theory(ctx, lambda r0: iterate_correlation(r0, depth, relu_correlation_map))


@_register(
    "nngp_residual_relu", ("norm_growth", "symbol_correlation"), "Cho & Saul (2009); Hayou et al. (2021); Li, Nica & Roy (2021)"
)
def _nngp_residual_relu(ctx: TheoryContext) -> xr.DataArray:
    """Residual ReLU kernel at init, h' = h + α·W relu(h): q_ℓ = q₀(1+r)^ℓ, ρ' = (ρ + r·f(ρ)/π)/(1+r), r = α²σ_w²/2.

    Exact at infinite width; at width n the bias is O(1/n) (≈ 2/n allowed by the suites, plus 3 SE).
    For ``plain`` (residual: true) σ_w = init_scale; for ``tokenwise`` with norm none and relu, the
    branch W₂ relu(W₁ h) has the same kernel with σ_w² = init_scale⁴ (biases are zero at init).
    """
    _init_only(ctx)
    arch = ctx.architecture
    r = ArchitectureConfig.alpha_for(arch.get("residual_scale", 1.0), int(arch["depth"])) ** 2 * _residual_relu(arch) / 2.0
    depth = int(arch["depth"])
    if ctx.observable == "norm_growth":
        return _along_layer(ctx, (1.0 + r) ** np.arange(depth + 1.0), per_seed=False)
    return _correlation_theory(ctx, lambda r0: iterate_correlation(r0, depth, lambda p: residual_correlation_map(p, r)))


@_register(
    "nngp_residual_relu_limit",
    ("norm_growth", "symbol_correlation"),
    "Hayou et al. (2021); Li, Nica & Roy (2021); Noci et al. (2022)",
)
def _nngp_residual_relu_limit(ctx: TheoryContext) -> xr.DataArray:
    """Depth → ∞ limit of the residual ReLU kernel at t = ℓ/L for the case's residual scaling.

    * ``residual_scale: 1/sqrt(L)`` (α = β/√L, β = 1): q(t) = q₀e^{ct}, ρ(t) solves dρ/dt =
      c(f(ρ)/π − ρ), c = β²σ_w²/2 — the recursion converges to it with an O(1/L) gap;
    * ``residual_scale: 1/L``: frozen, q(t) = q₀ and ρ(t) = ρ₀ (the total update is O(1/L));
    * a depth-independent α (a number, or '1'): collapse, ρ(t) = 1 for t > 0. Near 1,
      f(ρ)/π = ρ + (2√2/3π)(1−ρ)^{3/2} + …, so 1 − ρ_ℓ ≈ 4/(kℓ)², k = (r/(1+r))·2√2/(3π);
      q diverges like (1+r)^L, so norm_growth has no limit there.
    """
    _init_only(ctx)
    arch = ctx.architecture
    sw2, depth = _residual_relu(arch), int(arch["depth"])
    scale = arch.get("residual_scale", 1.0)
    t = np.arange(depth + 1.0) / depth
    if scale == "1/sqrt(L)":
        c = sw2 / 2.0
        if ctx.observable == "norm_growth":
            return _along_layer(ctx, np.exp(c * t), per_seed=False)
        return _correlation_theory(ctx, lambda r0: ode_correlation(r0, c, t))
    if scale == "1/L":
        if ctx.observable == "norm_growth":
            return _along_layer(ctx, np.ones(depth + 1), per_seed=False)
        return _correlation_theory(ctx, lambda r0: np.broadcast_to(r0, (depth + 1, *r0.shape)))
    if ctx.observable == "norm_growth":
        raise TheoryNotApplicable(
            f"with a depth-independent residual scale ({scale!r}) q_L/q₀ = (1+r)^L has no depth "
            "limit; predict it with theory 'nngp_residual_relu'"
        )
    return _correlation_theory(ctx, lambda r0: np.concatenate([r0[None], np.ones((depth, *r0.shape))]))


@_register("tokenwise_symmetry", ("effective_rank", "kernel_drift"), "docs/science.md, 'Tokenwise symmetry at init'")
def _tokenwise_symmetry(ctx: TheoryContext) -> xr.DataArray:
    """At init and infinite width a tokenwise network's centred position kernel is the same at every layer.

    The stream at position t is a row T_ℓ[x_t] of a symbol table whose kernel T_ℓT_ℓᵀ/d tends to
    (q_ℓ − c_ℓ)I + c_ℓ𝟙𝟙ᵀ (symbols are exchangeable: iid embeddings, zero positional embedding at
    init). Centring over samples removes 𝟙𝟙ᵀ, so the centred Gram of layer ℓ is (q_ℓ − c_ℓ)·X_cX_cᵀ
    with X_c the centred one-hot of the input symbols: kernel drift 1 − CKA = 0, and the effective
    rank at every layer is that of X_c at the position (the probe's symbol weighting; V − 1 for
    uniform symbols), averaged over positions like the observable. At finite width the kernel
    fluctuates by O(width^−½) with zero mean at first order; drift (1 − a cosine) is second order in
    it, and the erank's mean shift is second order plus the O(1/width) mean correction of the kernel:
    both deviations ∝ 1/width.
    """
    import xarray as xr

    _init_only(ctx)
    kind = ctx.architecture.get("kind")
    if kind not in ("tokenwise", "plain"):
        raise TheoryNotApplicable(
            f"the tokenwise symmetry holds for networks without context (tokenwise, plain); the case is {kind!r}"
        )
    ds = ctx.dataset
    if ctx.observable == "kernel_drift":
        t = ds["transition"].values
        return xr.DataArray(np.zeros(len(t)), dims=("transition",), coords={"transition": t})
    erank = float(ctx.variable("input_symbol_effective_rank").mean().values)
    layer = ds["layer"].values
    return xr.DataArray(np.full(len(layer), erank), dims=("layer",), coords={"layer": layer})


@_register(
    "pooled_histogram_rank",
    ("data_effective_rank_pooled",),
    "docs/science.md, 'Data-side pooling artifact'",
    stages=("init", "trained"),
)
def _pooled_histogram_rank(ctx: TheoryContext) -> xr.DataArray:
    """Population effective rank of the position-pooled one-hot histogram: erank of the exact pooled covariance.

    Σ = T⁻² Σ_{t,s}(J_{|t−s|} − ππᵀ) (symmetrised), erank over √eig(Σ). Sticky chains with uniform π:
    V − 1 at every ξ; block chains: lower, and lower the longer ξ_slow — a pooled "collapse" made by
    the data alone. The measured erank of N sequences is biased low by ≈ (V−1)²/(8N) (MP dispersion
    of the sample spectrum; 0.014 at V = 16, N = 2048): allow for it in the tolerance.
    """
    cov = ctx.variable("input_pooled_covariance").values
    import xarray as xr

    return xr.DataArray(effective_rank_of_covariance(cov))
