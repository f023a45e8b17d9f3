"""Observables of representations: spectra and rank measures, linear CKA and kernel drift, update ratio, cloud distance; attention entropy, free energy and distance.

The public functions live in `_rank`, `_kernel`, `_geometry` and `_attention`; `_checks` holds the
argument checks they all run first (once per call) and `_batching` the chunked float64 machinery
they all run on.

* Rank measures: `singular_values`, `effective_rank`, `participation_ratio`, `stable_rank`,
  `numerical_rank`, `rank_measures` (the three spectral ones from one eigensolve).
* Kernels: `linear_cka`, `cka_matrix`, `kernel_drift`.
* Uncentred geometry: `update_ratio`, `cloud_distance`.
* Attention (one head's pre-softmax scores ``s`` (..., T_query, T_key), masked keys at ``-inf``;
  each the mean over queries, optionally over a boolean ``queries`` selection):
  `attention_entropy` (mean ``−Σ_k p_k ln p_k``), `attention_free_energy` (mean ``ln Σ_k exp s_k``,
  the log-partition function: minus the free energy of the Boltzmann distribution over keys with
  energies ``−s``), `attention_distance` (mean ``Σ_k p_k |k − t|``). They take scores, not
  activations, and centre nothing; of the conventions below, float64, batching, errors and
  ``nonfinite`` apply (``-inf`` is a masked key, not a non-finite value; nan and ``+inf`` are).

Every other function takes activations ``x`` of shape ``(..., N samples, d features)`` with any
number of leading batch dimensions (seed, stage, layer, position, ...), as a numpy or JAX array of any real
dtype, and returns a numpy ``float64`` array of shape ``(...)`` (0-d for a single matrix). One call
handles a whole batch: the work is batched matrix products and batched symmetric eigensolvers, run
over the batch in fixed-size chunks so that float32 input of several GiB never needs a float64 copy
of itself. There is no Python loop over batch elements.

Conventions shared by all functions (see ``docs/science.md``, "Observables"):

* **float64.** Input is cast to float64 chunk by chunk; spectra of nearly degenerate matrices need it.
* **Centred over samples** by default (``center=True``): ``x ← x − mean over the N axis`` (two
  passes, so the centred columns sum to zero to rounding of the centred values, not of the mean).
  Uncentred spectra are dominated by the mean (one huge singular value), so ``center=False`` is an
  explicit opt-out. After centring the rank is at most ``N − 1``: use ``N ≥ 4d``.
* **Constant features.** A feature whose range over the samples is at most ``N·ε·max|x|`` (ε the
  float64 machine epsilon) is treated as constant and centres to exactly 0, not to rounding noise.
  A constant layer therefore has a zero centred Gram matrix: rank measures 0, CKA ``nan``.
* **Spectra via the smaller Gram matrix.** Singular values come from ``eigvalsh`` of ``XᵀX``
  (``d×d``) or ``XXᵀ`` (``N×N``), whichever is smaller. Gram eigenvalues below
  ``λ_max·max(N, d)·ε`` are rounding noise of that method and are set to 0 (this also clips the tiny
  negative ones), so singular values below ≈ ``√(max(N, d)·ε)·σ_max`` (≈ 3e-7·σ_max at N = 512)
  are reported as exactly 0. Their weight in any of the rank measures here is below 1e-5.
* **Errors.** ``ValueError`` for fewer than 2 dimensions, fewer than 2 samples, non-finite values,
  non-real dtypes and mismatched shapes. ``nonfinite="nan"`` instead returns nan for every item
  (a matrix; for the layer-stack functions the whole stack) that holds a nan or inf, e.g. the
  activations of a diverged seed, and measures the rest.
* **Layer stacks.** ``cka_matrix``, ``kernel_drift`` and ``update_ratio`` take layers on axis -3:
  for activations stored as (seed, stage, layer, position, N, d) pass ``np.moveaxis(x, 2, -3)``
  (a view; chunks are gathered from it without copying the whole array).
* **Threads.** Chunks run in a thread pool of one thread per CPU with BLAS limited to one thread
  meanwhile (via ``threadpoolctl`` when installed). Letting OpenBLAS thread each small product
  instead made these calls 10-20× slower on a 2-core machine busy with other processes.

References
----------
Roy & Vetterli (2007), "The effective rank: a measure of effective dimensionality", EUSIPCO.
Gao et al. (2017), "A theory of multineuronal dimensionality, dynamics and measurement", bioRxiv 214262.
Rudelson & Vershynin (2007), "Sampling from large matrices: an approach through geometric
functional analysis", J. ACM 54(4).
Kornblith, Norouzi, Lee & Hinton (2019), "Similarity of neural network representations revisited",
ICML.
Song, Smola, Gretton, Bedo & Borgwardt (2012), "Feature selection via dependence maximization",
JMLR 13.
Clark, Khandelwal, Levy & Manning (2019), "What does BERT look at? An analysis of BERT's attention",
BlackboxNLP (attention entropy).
Vig & Belinkov (2019), "Analyzing the structure of attention in a transformer language model",
BlackboxNLP (mean attention distance).
"""

from ._attention import attention_distance as attention_distance
from ._attention import attention_entropy as attention_entropy
from ._attention import attention_free_energy as attention_free_energy
from ._checks import NonFinite as NonFinite
from ._geometry import cloud_distance as cloud_distance
from ._geometry import update_ratio as update_ratio
from ._kernel import cka_matrix as cka_matrix
from ._kernel import kernel_drift as kernel_drift
from ._kernel import linear_cka as linear_cka
from ._rank import effective_rank as effective_rank
from ._rank import numerical_rank as numerical_rank
from ._rank import participation_ratio as participation_ratio
from ._rank import rank_measures as rank_measures
from ._rank import singular_values as singular_values
from ._rank import stable_rank as stable_rank

__all__ = [
    "singular_values",
    "effective_rank",
    "participation_ratio",
    "stable_rank",
    "numerical_rank",
    "rank_measures",
    "linear_cka",
    "cka_matrix",
    "kernel_drift",
    "update_ratio",
    "cloud_distance",
    "attention_entropy",
    "attention_free_energy",
    "attention_distance",
]
