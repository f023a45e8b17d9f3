"""The PyTorch peers of ``benchmarks/throughput.py``, ``benchmarks/transformer_peer.py`` and
``benchmarks/suite_speed.py``: the same training, written as well as PyTorch allows.

Every variant trains the same network (pre-LN GELU residual MLP blocks — tokenwise, mixer, windowed —
or pre-LN transformer blocks; LayerNorm readout; Adam 3e-4) on the same sticky-chain batches with BERT
masking (sampled with torch ops inside the step), one seed, and returns a ``step()`` callable that
runs one optimizer step and returns the loss tensor:

* ``plain`` — every token through the network, ``F.cross_entropy`` on the scored positions: the loop
  a researcher writes first;
* ``symbol_table`` (tokenwise only) — the algorithm rgbench uses: a tokenwise network's output at a
  position depends only on that position's input symbol, so the batch loss is
  Σ_{o,j} n(o, j)·(−log softmax(f(o))_j) / Σ n over the (input symbol, target) count table, and the
  network runs on the V + 1 symbols instead of batch·T tokens (the same number, exactly);
* ``..._compiled`` — the same with the loss computation (network forward; its backward follows
  through AOTAutograd) under ``torch.compile`` (inductor); the optimizer step stays eager (fused
  Adam), which is what ``torch.compile`` users do on CPU;
* ``symbol_table_vmap`` (tokenwise, several seeds) — S seeds in one program: parameters stacked
  over seeds, the loss ``torch.func.vmap``-ed over them, one Adam over the stacked tensors.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F


class MLP(nn.Module):
    def __init__(self, n_in: int, n_hidden: int, n_out: int):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(n_in, n_hidden), nn.Linear(n_hidden, n_out)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))


class TokenwiseBlock(nn.Module):
    def __init__(self, d: int, hidden: int):
        super().__init__()
        self.norm, self.mlp = nn.LayerNorm(d), MLP(d, hidden, d)

    def forward(self, h):
        return h + self.mlp(self.norm(h))


class MixerBlock(nn.Module):
    def __init__(self, d: int, hidden: int, length: int, token_hidden: int):
        super().__init__()
        self.norm1, self.token = nn.LayerNorm(d), MLP(length, token_hidden, length)
        self.norm2, self.channel = nn.LayerNorm(d), MLP(d, hidden, d)

    def forward(self, h):  # (B, T, d)
        h = h + self.token(self.norm1(h).transpose(-1, -2)).transpose(-1, -2)
        return h + self.channel(self.norm2(h))


class WindowedBlock(nn.Module):
    """rgbench's windowed block (``rgbench.models._windowed``): h[t] ← h[t] + MLP([u[t−k]; …; u[t+k]]) with
    u = LN(h) and u = 0 outside 0 … T−1 — the 2k + 1 normed neighbours concatenated along the width in
    that order (fan-in (2k + 1)·d), one Linear → GELU → Linear back to d."""

    def __init__(self, d: int, hidden: int, radius: int):
        super().__init__()
        self.norm, self.mlp = nn.LayerNorm(d), MLP((2 * radius + 1) * d, hidden, d)
        self.radius = radius

    def forward(self, h):  # (B, T, d)
        k, t = self.radius, h.shape[1]
        padded = F.pad(self.norm(h), (0, 0, k, k))  # zero rows before position 0 and after T − 1
        return h + self.mlp(torch.cat([padded[:, j : j + t] for j in range(2 * k + 1)], dim=-1))


class SelfAttention(nn.Module):
    """rgbench's attention branch: LayerNorm → one fused q|k|v Linear (d → 3·heads·head_width, with bias;
    columns [q | k | v], head-major, as rgbench's ``wqkv``) → ``scaled_dot_product_attention`` (every
    query sees every key: bidirectional, no mask) → the heads concatenated → Linear back to d (bias)."""

    def __init__(self, d: int, heads: int, head_width: int):
        super().__init__()
        inner = heads * head_width
        self.norm, self.qkv, self.out = nn.LayerNorm(d), nn.Linear(d, 3 * inner), nn.Linear(inner, d)
        self.heads, self.head_width = heads, head_width

    def forward(self, h):  # (B, T, d)
        b, t, _ = h.shape
        qkv = self.qkv(self.norm(h)).view(b, t, 3, self.heads, self.head_width).permute(2, 0, 3, 1, 4)
        o = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])  # (B, heads, T, head_width); scale 1/√head_width
        return self.out(o.transpose(1, 2).reshape(b, t, self.heads * self.head_width))


class TransformerBlock(nn.Module):
    """h ← h + MHSA(LN(h)); h ← h + MLP(LN(h)) (rgbench's transformer block at α = 1)."""

    def __init__(self, d: int, hidden: int, heads: int, head_width: int):
        super().__init__()
        self.attention = SelfAttention(d, heads, head_width)
        self.norm, self.mlp = nn.LayerNorm(d), MLP(d, hidden, d)

    def forward(self, h):
        h = h + self.attention(h)
        return h + self.mlp(self.norm(h))


def sinusoidal_positions(length: int, width: int) -> torch.Tensor:
    """rgbench's table (``rgbench.models._transformer.sinusoidal_positions``): PE[t, 2i] = sin(t / 10000^(2i/d)),
    PE[t, 2i+1] = cos(t / 10000^(2i/d)), computed in float64, stored as float32."""
    t = torch.arange(length, dtype=torch.float64)[:, None]
    i = torch.arange(width, dtype=torch.float64)[None, :]
    angle = t / 10000.0 ** ((i - i % 2) / width)
    return torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle)).to(torch.float32)


class Net(nn.Module):
    def __init__(self, vocab: int, d: int, depth: int, block: Callable[[], nn.Module]):
        super().__init__()
        self.embed = nn.Embedding(vocab + 1, d)
        self.blocks = nn.ModuleList([block() for _ in range(depth)])
        self.norm, self.out = nn.LayerNorm(d), nn.Linear(d, vocab)

    def trunk(self, h):
        for b in self.blocks:
            h = b(h)
        return self.out(self.norm(h))

    def forward(self, x):
        return self.trunk(self.embed(x))


class TransformerNet(Net):
    """Embedding (+ the fixed sinusoidal table, a buffer: no parameters), transformer blocks, LayerNorm +
    Linear readout. Initialised as rgbench initialises it: every Linear weight N(0, 1/fan_in), biases
    zero (embedding N(0, 1) and LayerNorm gain 1, bias 0 are PyTorch's defaults too)."""

    def __init__(self, vocab: int, length: int, d: int, depth: int, hidden: int, heads: int, head_width: int):
        super().__init__(vocab, d, depth, lambda: TransformerBlock(d, hidden, heads, head_width))
        self.register_buffer("positions", sinusoidal_positions(length, d), persistent=False)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, std=m.in_features**-0.5)
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.trunk(self.embed(x) + self.positions)


def sticky_batch(vocab: int, length: int, batch: int, xi: float):
    """A sampler of (tokens, inputs, scored): a π-uniform sticky chain, 15 % BERT masking."""
    alpha = math.exp(-1.0 / xi)
    pi = torch.full((vocab,), 1.0 / vocab)
    t_idx = torch.arange(length).expand(batch, length)

    def sample():
        fresh = torch.multinomial(pi, batch * length, replacement=True).view(batch, length)
        refresh = torch.rand(batch, length) >= alpha
        refresh[:, 0] = True
        last = torch.cummax(torch.where(refresh, t_idx, 0), dim=1).values
        tokens = torch.gather(fresh, 1, last)
        scored = torch.rand(batch, length) < 0.15
        u = torch.rand(batch, length)
        rand = torch.randint(0, vocab, (batch, length))
        replaced = torch.where(u < 0.8, vocab, torch.where(u < 0.9, rand, tokens))
        return tokens, torch.where(scored, replaced, tokens), scored

    return sample


def _counts(tokens, inputs, scored, vocab: int):
    """The (input symbol o ∈ 0 … V, target j ∈ 0 … V−1) count table of the scored positions."""
    idx = inputs[scored] * vocab + tokens[scored]
    return torch.bincount(idx, minlength=(vocab + 1) * vocab).view(vocab + 1, vocab).to(torch.float32)


def make_step(
    kind: str,
    variant: str,
    *,
    vocab: int,
    length: int,
    batch: int,
    xi: float,
    d: int,
    depth: int,
    hidden: int,
    token_hidden: int | None = None,
    heads: int = 4,
    head_width: int | None = None,
    seed: int = 0,
    radius: int = 1,
) -> Callable[[], torch.Tensor]:
    """One optimizer step of `kind` ('tokenwise' | 'mixer' | 'windowed' | 'transformer') written as
    `variant` (see the module doc); `heads` and `head_width` (None: d // heads) are the transformer's,
    `radius` the windowed network's."""
    torch.manual_seed(seed)
    if kind == "tokenwise":
        net = Net(vocab, d, depth, lambda: TokenwiseBlock(d, hidden))
    elif kind == "windowed":
        net = Net(vocab, d, depth, lambda: WindowedBlock(d, hidden, radius))
    elif kind == "transformer":
        net = TransformerNet(vocab, length, d, depth, hidden, heads, head_width or d // heads)
    else:
        net = Net(vocab, d, depth, lambda: MixerBlock(d, hidden, length, token_hidden or 4 * length))
    opt = torch.optim.Adam(net.parameters(), lr=3e-4, fused=True)
    sample = sticky_batch(vocab, length, batch, xi)
    compiled = variant.endswith("_compiled")
    base = variant.removesuffix("_compiled")

    if base == "plain":

        def loss_of(inputs, tokens, scored):
            logits = net(inputs)
            return F.cross_entropy(logits[scored], tokens[scored])
    elif base == "symbol_table" and kind == "tokenwise":
        symbols = torch.arange(vocab + 1)

        def loss_of(counts):
            logp = F.log_softmax(net(symbols), dim=-1)
            return -(counts * logp).sum() / counts.sum().clamp(min=1.0)
    else:
        raise ValueError(f"no PyTorch variant {variant!r} for {kind}")
    if compiled:
        loss_of = torch.compile(loss_of)

    def step():
        tokens, inputs, scored = sample()
        loss = loss_of(_counts(tokens, inputs, scored, vocab)) if base == "symbol_table" else loss_of(inputs, tokens, scored)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step


def make_vmapped_tokenwise_step(
    seeds: int, *, vocab: int, length: int, batch: int, xi: float, d: int, depth: int, hidden: int
) -> Callable[[], torch.Tensor]:
    """S tokenwise seeds in one program: stacked parameters, the symbol-table loss vmapped over seeds."""
    from torch.func import functional_call, stack_module_state, vmap

    nets = []
    for s in range(seeds):
        torch.manual_seed(s)
        nets.append(Net(vocab, d, depth, lambda: TokenwiseBlock(d, hidden)))
    params, buffers = stack_module_state(nets)
    base = Net(vocab, d, depth, lambda: TokenwiseBlock(d, hidden)).to("meta")
    opt = torch.optim.Adam(list(params.values()), lr=3e-4, fused=True)
    samplers = [sticky_batch(vocab, length, batch, xi) for _ in range(seeds)]
    symbols = torch.arange(vocab + 1)

    def one(p, b, counts):
        logp = F.log_softmax(functional_call(base, (p, b), (symbols,)), dim=-1)
        return -(counts * logp).sum() / counts.sum().clamp(min=1.0)

    losses = vmap(one)

    def step():
        counts = torch.stack([_counts(*draw(), vocab) for draw in samplers])
        loss = losses(params, buffers, counts).sum()  # seeds are independent: the sum's gradient is each seed's
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return step
