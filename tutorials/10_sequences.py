"""
Sequences: RNNs, LSTMs and attention
====================================

Text, audio, sensor readings and prices arrive as *sequences*: an ordered list of steps, each a
vector of features. This tutorial trains recurrent networks (``nn.RNN``, ``nn.GRU``,
``nn.LSTM``) on a real sequence task, batches sequences of different lengths correctly, writes
attention by hand and checks it against PyTorch's own, and finally trains a small Transformer
encoder on the same task as the LSTM.

**What you will learn**

* what a recurrent layer takes and returns (``batch_first``, ``output``, ``h_n`` and ``c_n``)
* how to train and compare RNN, GRU and LSTM classifiers
* how to pad a batch of sequences of different lengths, how ``pack_padded_sequence`` works, and
  why ``output[:, -1]`` is the wrong "last step" of a padded sequence
* scaled dot-product attention and multi-head attention written by hand, checked against
  ``F.scaled_dot_product_attention`` and ``nn.MultiheadAttention``
* how to build a small ``nn.TransformerEncoder`` classifier, and how it compares with the LSTM
  here

**Prerequisites**

* `Modules <../03_modules/>`_ and `Training <../05_training/>`_

The task: scikit-learn's bundled handwritten digits (1,797 images of 8x8 pixels), each read
*row by row*, top to bottom, as a sequence of 8 steps of 8 pixels; the model has to classify
the digit after seeing all rows. The models are small and train for a few epochs so that the
page runs in seconds on a CPU; for real sequence work (text, speech), expect longer
sequences, larger models and many more epochs.
"""

# %%
# Digits as sequences
# -------------------
# A recurrent layer with ``batch_first=True`` expects a tensor of shape ``(batch, steps,
# features)``. An 8x8 image tensor of shape ``(N, 8, 8)`` already is one: step ``t`` is row
# ``t`` of the image. The split into training and test images is seeded, so every run sees the
# same split.
import torch
from sklearn.datasets import load_digits

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")

digits = load_digits()
sequences = torch.from_numpy(digits.images).float() / 16.0  # (1797, 8 steps, 8 features)
labels = torch.from_numpy(digits.target)
order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
train_idx, test_idx = order[:1350], order[1350:]
x_train, y_train = sequences[train_idx], labels[train_idx]
x_test, y_test = sequences[test_idx], labels[test_idx]
print(f"train {tuple(x_train.shape)}, test {tuple(x_test.shape)}  (sequences, steps, features)")
print("the first sequence, step by step (one row of the image each):")
print((x_train[0] * 9).round().int())  # 0..9, easier to read than floats

# %%
# What a recurrent layer returns
# ------------------------------
# A recurrent layer reads the steps in order and carries a *hidden state* from one step to the
# next. It returns two things: ``output``, the hidden state after *every* step, of shape
# ``(batch, steps, hidden)``, and ``h_n``, the hidden state after the *last* step, of shape
# ``(layers, batch, hidden)``. An LSTM also keeps a second "cell" state and returns
# ``(h_n, c_n)``. For a batch of full-length sequences, the last step of ``output`` and ``h_n``
# are the same numbers; keep that in mind for the padding section.
from torch import nn

lstm = nn.LSTM(input_size=8, hidden_size=16, batch_first=True)
output, (h_n, c_n) = lstm(x_train[:4])
print(f"output {tuple(output.shape)}, h_n {tuple(h_n.shape)}, c_n {tuple(c_n.shape)}")
torch.testing.assert_close(output[:, -1], h_n[-1])
print("output[:, -1] equals h_n[-1] for full-length sequences: True")

gru_output, gru_h_n = nn.GRU(8, 16, batch_first=True)(x_train[:4])  # no cell state
print(f"GRU: output {tuple(gru_output.shape)}, h_n {tuple(gru_h_n.shape)}")

# %%
# A recurrent classifier
# ----------------------
# The classifier runs a recurrent layer over the rows and feeds the final hidden state to a
# linear layer that outputs 10 logits. ``forward`` also accepts the true ``lengths`` of a padded
# batch; the padding section below explains why they are needed. The same class works with
# ``nn.RNN`` (the plain recurrence ``h_t = tanh(W x_t + U h_{t-1} + b)``), ``nn.GRU`` and
# ``nn.LSTM``, whose gates decide what to keep and what to forget.
from torch.nn.utils.rnn import pack_padded_sequence


class RecurrentClassifier(nn.Module):
    def __init__(self, rnn_type, hidden_size=64):
        super().__init__()
        self.rnn = rnn_type(input_size=8, hidden_size=hidden_size, batch_first=True)
        self.head = nn.Linear(hidden_size, 10)

    def forward(self, x, lengths=None):
        if lengths is not None:  # a padded batch: let the RNN skip the padding
            x = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        _, h_n = self.rnn(x)
        if isinstance(h_n, tuple):  # an LSTM returns (h_n, c_n)
            h_n = h_n[0]
        return self.head(h_n[-1])  # the last layer's final hidden state


print(RecurrentClassifier(nn.LSTM))

# %%
# Training RNN, GRU and LSTM
# --------------------------
# One training function serves every model on this page: Adam, mini-batches of 32 in a seeded
# order, a fixed number of epochs, and the test accuracy recorded after each epoch (to draw the
# curves; nothing is chosen by it, the final epoch's model is the one reported). Every model
# starts from ``torch.manual_seed(0)``.
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 15
train_ds = TensorDataset(x_train, y_train)


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    return (model(x.to(device)).argmax(dim=1).cpu() == y).float().mean().item()


def train(model, epochs=EPOCHS, lr=3e-3):
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        model.train()
        loader = DataLoader(
            train_ds, batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(epoch)
        )
        for xb, yb in loader:
            loss = nn.functional.cross_entropy(model(xb.to(device)), yb.to(device))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        history.append(accuracy(model, x_test, y_test))
    return history


def n_params(model):
    return sum(p.numel() for p in model.parameters())


models, histories = {}, {}
for name, rnn_type in [("RNN", nn.RNN), ("GRU", nn.GRU), ("LSTM", nn.LSTM)]:
    torch.manual_seed(0)
    models[name] = RecurrentClassifier(rnn_type)
    histories[name] = train(models[name])
    print(f"{name:>4}: {n_params(models[name]):6,} parameters, ", end="")
    print(f"test accuracy after {EPOCHS} epochs {histories[name][-1]:.1%}")
    assert histories[name][-1] > 0.9, (name, histories[name][-1])

# %%
# All three learn to read a digit row by row. The gates of the GRU and the LSTM were designed
# for long sequences, where a plain RNN struggles to carry information across many steps;
# these sequences have 8 steps. Each number above comes from one run, and with 447 test
# images one image is worth 0.22 percentage points, so do not rank the three by it: the
# comparison at the end of the page repeats runs with other seeds to see how much they vary.

# %%
# Variable lengths: padding
# -------------------------
# Real sequences rarely have the same length: sentences have different numbers of words. A
# batch is one rectangular tensor, so shorter sequences are *padded* with zeros up to the
# longest one, and the true lengths are kept alongside. To get sequences of different lengths
# here, three test images are cut after 8, 5 and 3 rows. ``pad_sequence`` stacks them into a
# ``(3, 8, 8)`` batch.
from torch.nn.utils.rnn import pad_sequence

lengths = torch.tensor([8, 5, 3])
pieces = [x_test[i, :n] for i, n in enumerate(lengths.tolist())]
padded = pad_sequence(pieces, batch_first=True)  # zeros after each sequence's end
print(f"pieces: {[tuple(p.shape) for p in pieces]} -> padded batch {tuple(padded.shape)}")
print("rows of the 3-step sequence that are padding:", (padded[2].abs().sum(1) == 0).tolist())

# %%
# The pitfall: ``output[:, -1]`` of a padded batch
# ------------------------------------------------
# The trained LSTM gives the reference answer: run each sequence *alone*, without padding, and
# take its final hidden state. Then run the padded batch as it is. For the full-length sequence
# the two agree, but for the shorter ones the LSTM kept running over the zero rows, so
# ``output[:, -1]`` (and ``h_n``) describe "sequence followed by blank rows", not the sequence.
lstm = models["LSTM"].rnn.eval()
padded, reference = padded.to(device), []
with torch.no_grad():
    for piece in pieces:
        _, (h_alone, _) = lstm(piece.unsqueeze(0).to(device))
        reference.append(h_alone[-1, 0])
    reference = torch.stack(reference)

    output, (h_n, _) = lstm(padded)
naive = output[:, -1]
gap = (naive - reference).abs().amax(dim=1)
print("largest |output[:, -1] - true last state| per sequence:", [f"{g:.3f}" for g in gap])
assert gap[0] < 1e-5 and (gap[1:] > 1e-2).all()

# %%
# Because the padding comes *after* the real steps, the outputs up to each sequence's own end
# are still correct: picking ``output[i, lengths[i] - 1]`` for every sequence ``i`` gives the
# true last states. ``h_n`` of the padded run, though, is wrong for the short sequences.
last_real = output[torch.arange(len(lengths)), lengths - 1]
torch.testing.assert_close(last_real, reference, rtol=1e-4, atol=1e-5)
print("output[i, lengths[i] - 1] equals the true last state: True")
h_n_gap = (h_n[-1] - reference).abs().amax(dim=1)
print("h_n of the padded run is wrong for the short sequences:", [f"{g:.3f}" for g in h_n_gap])
assert h_n_gap[0] < 1e-5 and (h_n_gap[1:] > 1e-2).all()

# %%
# ``pack_padded_sequence``: let the RNN skip the padding
# ------------------------------------------------------
# ``pack_padded_sequence`` stores the batch without its padding, plus the lengths (which must be
# a CPU tensor; ``enforce_sorted=False`` lets the batch come in any order). The RNN then stops
# each sequence at its true end, so ``h_n`` is right, and no time is spent on padding.
# ``pad_packed_sequence`` turns the packed output back into a padded tensor, but with *zeros*
# after each sequence's end: ``output[:, -1]`` of a short sequence is now all zeros, an even
# quieter bug. Use ``h_n``, or pick ``output[i, lengths[i] - 1]``.
from torch.nn.utils.rnn import pad_packed_sequence

packed = pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
with torch.no_grad():
    packed_output, (packed_h_n, _) = lstm(packed)
unpacked, unpacked_lengths = pad_packed_sequence(packed_output, batch_first=True)

torch.testing.assert_close(packed_h_n[-1], reference, rtol=1e-4, atol=1e-5)
print("packed run: h_n[-1] equals the true last state: True")
print("packed run, output[:, -1] per sequence is all zeros:", end=" ")
print((unpacked[:, -1] == 0).all(dim=1).tolist())
torch.testing.assert_close(unpacked[torch.arange(3), unpacked_lengths - 1], packed_h_n[-1])
assert (unpacked[1:, -1] == 0).all()

# %%
# The classifier above passes ``lengths`` to ``pack_padded_sequence``, so it predicts a padded
# batch exactly as it predicts each sequence alone.
classifier = models["LSTM"].eval()
with torch.no_grad():
    batched = classifier(padded, lengths)
    alone = torch.cat([classifier(p.unsqueeze(0).to(device)) for p in pieces])
torch.testing.assert_close(batched, alone, rtol=1e-4, atol=1e-5)
print("padded batch with lengths == each sequence alone: True")

# %%
# Attention, written by hand
# --------------------------
# Attention lets every step look at every other step directly instead of through a chain of
# hidden states. Each step emits a *query*, a *key* and a *value* vector; the output at a step
# is an average of all values, weighted by how well its query matches each key:
#
# .. math::
#
#    \mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(\frac{QK^\top}{\sqrt{d}}\right) V
#
# Dividing by :math:`\sqrt{d}` (``d`` is the query size) keeps the scores from growing with
# ``d`` and saturating the softmax. A boolean ``mask`` (``True`` = may attend) hides padded
# keys: their score becomes ``-inf`` and their weight exactly zero. PyTorch's fused version,
# ``F.scaled_dot_product_attention``, uses the same mask convention.
import math

import torch.nn.functional as F


def attention(q, k, v, mask=None):
    """q, k, v: (..., steps, d); mask: broadcastable to (..., steps, steps), True = attend."""
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = scores.softmax(dim=-1)
    return weights @ v, weights


gen = torch.Generator().manual_seed(0)
q, k, v = (torch.randn(2, 4, 6, 8, generator=gen).to(device) for _ in range(3))  # B, heads, T, d
keep = torch.tensor([[True] * 6, [True] * 4 + [False] * 2], device=device)  # 2nd: 4 real steps
mask = keep[:, None, None, :]  # (B, 1, 1, T_keys): the same keys hidden for every query

out, weights = attention(q, k, v, mask)
torch.testing.assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
print("hand-written attention equals F.scaled_dot_product_attention: True")
assert torch.allclose(weights.sum(dim=-1), torch.ones(1, device=device))
print("the weights of each query sum to 1: True")
print("weight on the padded keys of sequence 2:", weights[1, :, :, 4:].abs().max().item())
assert (weights[1, :, :, 4:] == 0).all()  # exactly zero, not just small

# Why divide by sqrt(d): with random queries and keys of size d = 256, raw dot products have a
# standard deviation near sqrt(256) = 16, and a softmax over such scores puts most of the
# weight on a single key. Scaled, the scores have a standard deviation near 1.
q_big, k_big = torch.randn(2, 64, 256, generator=gen)
raw = q_big @ k_big.T
print(f"d=256: score std {raw.std():.1f} unscaled, {(raw / 16).std():.2f} scaled;", end=" ")
top_raw = raw.softmax(-1).amax(-1).mean()
top_scaled = (raw / 16).softmax(-1).amax(-1).mean()
print(f"mean largest softmax weight {top_raw:.2f} unscaled, {top_scaled:.2f} scaled")
assert raw.std() > 10 and 0.8 < (raw / 16).std() < 1.2 and top_raw > 0.8 > 3 * top_scaled

# %%
# Multi-head attention, checked against ``nn.MultiheadAttention``
# ---------------------------------------------------------------
# ``nn.MultiheadAttention`` projects its input into queries, keys and values with one weight
# matrix (``in_proj_weight``, the three stacked), splits the ``embed_dim`` features into
# ``num_heads`` heads of ``embed_dim // num_heads``, runs attention in each head in parallel,
# concatenates the heads and applies an output projection (``out_proj``). Below, the same
# computation by hand with the layer's own weights. Note the opposite mask convention:
# ``key_padding_mask`` marks the *padding* with ``True``.
embed_dim, num_heads = 16, 4
torch.manual_seed(0)
mha = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True).to(device).eval()
x = torch.randn(2, 6, embed_dim, generator=gen).to(device)
key_padding_mask = ~keep  # True = padding, ignore this key


def split_heads(t):  # (B, T, E) -> (B, heads, T, E // heads)
    return t.unflatten(-1, (num_heads, embed_dim // num_heads)).transpose(1, 2)


with torch.no_grad():
    w_q, w_k, w_v = mha.in_proj_weight.chunk(3)
    b_q, b_k, b_v = mha.in_proj_bias.chunk(3)
    heads, head_weights = attention(
        split_heads(x @ w_q.T + b_q),
        split_heads(x @ w_k.T + b_k),
        split_heads(x @ w_v.T + b_v),
        mask=~key_padding_mask[:, None, None, :],
    )
    by_hand = mha.out_proj(heads.transpose(1, 2).flatten(-2))  # concatenate the heads
    expected, expected_weights = mha(
        x, x, x, key_padding_mask=key_padding_mask, average_attn_weights=False
    )
torch.testing.assert_close(by_hand, expected, rtol=1e-4, atol=1e-5)
torch.testing.assert_close(head_weights, expected_weights, rtol=1e-4, atol=1e-5)
print(f"output {tuple(by_hand.shape)} and per-head weights {tuple(head_weights.shape)}")
print("hand-written multi-head attention equals nn.MultiheadAttention: True")

# %%
# A tiny Transformer encoder on the same task
# -------------------------------------------
# A Transformer encoder stacks layers of multi-head self-attention and a small feed-forward
# network, each wrapped in a residual connection and layer normalisation. Attention by itself
# ignores order: shuffle the rows and each output is shuffled the same way. So the model adds a
# learned *position embedding* to every step before the encoder. The rows are projected from 8
# to 32 features, the encoder's outputs are averaged over the steps, and a linear layer makes
# the 10 logits.
#
# ``norm_first=True`` normalises the input of each sub-layer (the "pre-norm" layout of most
# recent Transformers). With ``enable_nested_tensor`` (on by default), ``nn.TransformerEncoder``
# skips the padding of a batch internally, which its documentation says helps when much of a
# batch is padding. That fast path does not support ``norm_first=True``, so the encoder warns
# unless it is told ``enable_nested_tensor=False``, as here; these sequences have no padding.


class TransformerClassifier(nn.Module):
    def __init__(self, d_model=32, nhead=4, num_layers=2, steps=8, use_positions=True):
        super().__init__()
        self.embed = nn.Linear(8, d_model)
        self.positions = nn.Parameter(torch.zeros(1, steps, d_model)) if use_positions else None
        layer = nn.TransformerEncoderLayer(
            d_model, nhead, dim_feedforward=64, dropout=0.0, batch_first=True, norm_first=True
        )
        self.encoder = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )
        self.head = nn.Linear(d_model, 10)

    def forward(self, x):
        z = self.embed(x)
        if self.positions is not None:
            z = z + self.positions[:, : x.size(1)]
        return self.head(self.encoder(z).mean(dim=1))


# Without position embeddings, shuffling the rows does not change the prediction at all:
torch.manual_seed(0)
orderless = TransformerClassifier(use_positions=False).to(device).eval()
shuffled = x_test[:5, torch.randperm(8)]
with torch.no_grad():
    torch.testing.assert_close(orderless(x_test[:5].to(device)), orderless(shuffled.to(device)))
print("without positions, shuffled rows give the same logits: True")

torch.manual_seed(0)
models["Transformer"] = TransformerClassifier()
histories["Transformer"] = train(models["Transformer"])
print(f"Transformer: {n_params(models['Transformer']):,} parameters, ", end="")
print(f"test accuracy after {EPOCHS} epochs {histories['Transformer'][-1]:.1%}")

# %%
# LSTM and Transformer compared, over three seeds
# -----------------------------------------------
# One run per model is one draw, so the LSTM and the Transformer are each trained twice more,
# from seeds 1 and 2 (same data, same order; only the initial weights change), and compared by
# their mean over the three runs and by how far the runs of one model spread.
import statistics

seeds = (0, 1, 2)
final = {name: [histories[name][-1]] for name in ("LSTM", "Transformer")}
for seed in seeds[1:]:
    torch.manual_seed(seed)
    final["LSTM"].append(train(RecurrentClassifier(nn.LSTM))[-1])
    torch.manual_seed(seed)
    final["Transformer"].append(train(TransformerClassifier())[-1])

print(f"{'model':>11} | {'parameters':>10} | " + " | ".join(f"seed {s}" for s in seeds), end="")
print(" |  mean | spread")
for name, accs in final.items():
    row = " | ".join(f"{a:6.1%}" for a in accs)
    mean, spread = statistics.mean(accs), max(accs) - min(accs)
    print(f"{name:>11} | {n_params(models[name]):>10,} | {row} | ", end="")
    print(f"{mean:.1%} | {100 * spread:.1f} pt")
difference = statistics.mean(final["Transformer"]) - statistics.mean(final["LSTM"])
print(f"mean test accuracy, Transformer minus LSTM: {100 * difference:+.1f} percentage points")
ahead = sum(t > lstm for t, lstm in zip(final["Transformer"], final["LSTM"], strict=True))
print(f"seeds with which the Transformer ended ahead: {ahead} of {len(seeds)}")
assert min(final["LSTM"] + final["Transformer"]) > 0.9
assert abs(difference) < 0.02, difference

# %%
# Both architectures learn the task, and on average they end within two percentage points
# of each other (the numbers above), fewer than ten test images; the last line says with how
# many seeds the Transformer came out ahead. A gap this small, from three runs of two untuned
# models, is no reason to prefer either: the learning rate, sizes and number of epochs are
# shared defaults. A comparison you act on should tune each model (the learning rate above
# all) and repeat more seeds. The curves show the seed-0 runs of all four models.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 3.5))
for name, history in histories.items():
    ax.plot(range(1, EPOCHS + 1), history, marker="o", markersize=3, label=name)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy")
ax.set_ylim(0.5, 1)
ax.legend()
ax.set_title("Digits read row by row (seed 0)")
fig.tight_layout()
plt.show()

# %%
# Exercises
# ---------
# Each exercise gives you code to complete and a checker that runs it on fixed inputs and
# prints ``correct``, or ``not correct:`` with the expected and the actual values. Edit the code
# and run its cell again. Every exercise cell is self-contained, so it also works on its own in
# the downloaded notebook. A reference solution follows each exercise, collapsed.

# %%
# Exercise 1: the last real step of a padded batch
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``last_real_step(output, lengths)``: ``output`` is the ``(batch, steps, hidden)`` output
# of an RNN run on a right-padded batch, ``lengths`` the true length of each sequence. Return
# the ``(batch, hidden)`` tensor holding, for each sequence, its output at its own last step.
import torch


def check_last_real_step(candidate) -> bool:
    """Run ``candidate`` on a fixed padded output; print 'correct' or what is wrong."""
    output = torch.arange(4 * 6 * 2, dtype=torch.float32).reshape(4, 6, 2)
    lengths = torch.tensor([6, 2, 4, 1])
    expected = torch.stack([output[i, n - 1] for i, n in enumerate(lengths.tolist())])
    try:
        got = candidate(output.clone(), lengths.clone())
    except Exception as exc:
        print(f"not correct: it raised {type(exc).__name__}: {exc}")
        return False
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
        print(f"not correct: expected shape {tuple(expected.shape)}, got {shape}")
        return False
    if not torch.equal(got, expected):
        print(f"not correct: for lengths {lengths.tolist()} expected {expected.tolist()},")
        print(f"             got {got.tolist()}")
        return False
    print("correct")
    return True


def last_real_step(output, lengths):
    # Your code here: output[i, lengths[i] - 1] for every sequence i.
    return None


check_last_real_step(last_real_step)


# %% tags=["solution"]
# Reference solution.
def last_real_step(output, lengths):
    # Integer ("fancy") indexing with two index tensors picks one step per sequence. Step
    # lengths[i] - 1 is the last real one; output[:, -1] would be padding for short sequences.
    batch = torch.arange(output.size(0), device=output.device)
    return output[batch, lengths.to(output.device) - 1]


assert check_last_real_step(last_real_step)

# %%
# Exercise 2: a custom attention module
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Complete ``forward`` of ``MySelfAttention``, a multi-head self-attention module: project the
# input ``x`` of shape ``(batch, steps, embed_dim)`` into queries, keys and values with
# ``q_proj``, ``k_proj`` and ``v_proj``, split them into ``num_heads`` heads, apply scaled
# dot-product attention in every head (by hand, without ``F.scaled_dot_product_attention``),
# join the heads and apply ``out_proj``. ``check_attention_module`` builds your module,
# copies its weights into an ``nn.MultiheadAttention`` and compares the two outputs; while
# your ``forward`` runs, PyTorch's own attention (``F.scaled_dot_product_attention``, however
# it was imported, and ``nn.MultiheadAttention``) raises an error.
import math

import torch
from torch import nn
from torch.overrides import TorchFunctionMode


class RefuseFusedAttention(TorchFunctionMode):
    """While active, PyTorch's own attention functions raise, under whatever name they are
    called: a ``TorchFunctionMode`` sees every call into the torch API."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in (
            "scaled_dot_product_attention",  # F.scaled_dot_product_attention
            "multi_head_attention_forward",  # what nn.MultiheadAttention calls
        ):
            raise RuntimeError(f"write attention by hand, without PyTorch's {func.__name__}")
        return func(*args, **(kwargs or {}))


def check_attention_module(candidate_class) -> bool:
    """Compare ``candidate_class`` with ``nn.MultiheadAttention`` given the same weights."""
    for embed_dim, num_heads in [(16, 4), (12, 2)]:
        case = f"embed_dim={embed_dim}, num_heads={num_heads}"
        with torch.random.fork_rng(devices=[]):  # seeded here, the reader's RNG left untouched
            torch.manual_seed(0)
            reference = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True).eval()
            x = torch.randn(3, 5, embed_dim)
            try:
                module = candidate_class(embed_dim, num_heads).eval()
            except Exception as exc:
                print(f"not correct: building it raised {type(exc).__name__}: {exc}")
                return False
        with torch.no_grad():
            try:  # the same weights in both: q, k, v stacked into in_proj, out_proj as it is
                projections = [getattr(module, f"{n}_proj") for n in ("q", "k", "v")]
                reference.in_proj_weight.copy_(torch.cat([p.weight for p in projections]))
                reference.in_proj_bias.copy_(torch.cat([p.bias for p in projections]))
                reference.out_proj.load_state_dict(module.out_proj.state_dict())
            except Exception as exc:
                print("not correct: keep q_proj, k_proj, v_proj and out_proj as given;")
                print(f"             copying them raised {type(exc).__name__}: {exc}")
                return False
            expected = reference(x, x, x, need_weights=False)[0]
            try:
                with RefuseFusedAttention():
                    got = module(x.clone())
            except Exception as exc:
                print(f"not correct: for {case} forward raised {type(exc).__name__}: {exc}")
                return False
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
            print(f"not correct: for {case} expected shape {tuple(expected.shape)}, got {shape}")
            return False
        if not torch.allclose(got, expected, atol=1e-5, rtol=1e-4):
            want = [round(v, 4) for v in expected[0, 0, :4].tolist()]
            have = [round(v, 4) for v in got[0, 0, :4].tolist()]
            print(f"not correct: for {case} expected output[0, 0, :4] = {want}, got {have}")
            return False
    print("correct")
    return True


class MySelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        assert embed_dim % num_heads == 0, "each head gets embed_dim // num_heads features"
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        # Your code here: (batch, steps, embed_dim) -> (batch, steps, embed_dim).
        return None


check_attention_module(MySelfAttention)


# %% tags=["solution"]
# Reference solution.
class MySelfAttention(nn.Module):
    def __init__(self, embed_dim, num_heads):
        super().__init__()
        assert embed_dim % num_heads == 0, "each head gets embed_dim // num_heads features"
        self.num_heads = num_heads
        self.q_proj = nn.Linear(embed_dim, embed_dim)
        self.k_proj = nn.Linear(embed_dim, embed_dim)
        self.v_proj = nn.Linear(embed_dim, embed_dim)
        self.out_proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, x):
        batch, steps, embed_dim = x.shape
        head_dim = embed_dim // self.num_heads

        def split_heads(t):  # (batch, steps, embed_dim) -> (batch, heads, steps, head_dim)
            return t.view(batch, steps, self.num_heads, head_dim).transpose(1, 2)

        q, k, v = (split_heads(proj(x)) for proj in (self.q_proj, self.k_proj, self.v_proj))
        # Scale by the size of one head's query, not by embed_dim.
        weights = (q @ k.transpose(-2, -1) / math.sqrt(head_dim)).softmax(dim=-1)
        heads = weights @ v  # (batch, heads, steps, head_dim)
        return self.out_proj(heads.transpose(1, 2).reshape(batch, steps, embed_dim))


assert check_attention_module(MySelfAttention)

# %%
# Exercise 3: causal attention
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# A model that generates a sequence step by step must not look ahead: the output at step ``t``
# may use steps ``0..t`` only. Write ``causal_attention(q, k, v)`` for tensors of shape
# ``(batch, steps, d)`` by hand, with a mask, without ``F.scaled_dot_product_attention``.
# ``check_causal_attention`` compares it with ``F.scaled_dot_product_attention(...,
# is_causal=True)``, which raises an error while your function runs, however it was imported.
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode


class RefuseFusedAttention(TorchFunctionMode):
    """While active, PyTorch's own attention functions raise, under whatever name they are
    called: a ``TorchFunctionMode`` sees every call into the torch API."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        if getattr(func, "__name__", "") in (
            "scaled_dot_product_attention",  # F.scaled_dot_product_attention
            "multi_head_attention_forward",  # what nn.MultiheadAttention calls
        ):
            raise RuntimeError(f"write attention by hand, without PyTorch's {func.__name__}")
        return func(*args, **(kwargs or {}))


def check_causal_attention(candidate) -> bool:
    """Run ``candidate`` on fixed q, k, v; print 'correct' or what is wrong; return bool."""
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 5, 4, generator=gen) for _ in range(3))
    expected = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    try:
        with RefuseFusedAttention():
            got = candidate(q.clone(), k.clone(), v.clone())
    except Exception as exc:
        print(f"not correct: it raised {type(exc).__name__}: {exc}")
        return False
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
        print(f"not correct: expected shape {tuple(expected.shape)}, got {shape}")
        return False
    if not torch.allclose(got, expected, atol=1e-5, rtol=1e-4):
        rows = [t for t in range(5) if not torch.allclose(got[:, t], expected[:, t], atol=1e-5)]
        want = [round(x, 4) for x in expected[0, rows[0]].tolist()]
        have = [round(x, 4) for x in got[0, rows[0]].tolist()]
        print(f"not correct: outputs at steps {rows} differ; at step {rows[0]} expected {want},")
        print(f"             got {have}")
        return False
    print("correct")
    return True


def causal_attention(q, k, v):
    # Your code here: softmax(q k^T / sqrt(d)) v, with the future steps masked out.
    return None


check_causal_attention(causal_attention)


# %% tags=["solution"]
# Reference solution.
def causal_attention(q, k, v):
    steps, d = q.shape[-2:]
    scores = q @ k.transpose(-2, -1) / d**0.5
    # Row t (a query) may see columns 0..t (keys): the lower triangle, diagonal included.
    allowed = torch.ones(steps, steps, dtype=torch.bool, device=q.device).tril()
    scores = scores.masked_fill(~allowed, float("-inf"))
    return scores.softmax(dim=-1) @ v


assert check_causal_attention(causal_attention)

# %%
# Summary
# -------
# * Recurrent layers take ``(batch, steps, features)`` with ``batch_first=True`` and return the
#   hidden state after every step (``output``) and after the last one (``h_n``; LSTMs also
#   ``c_n``).
# * Pad variable-length batches with ``pad_sequence`` and keep the lengths. ``output[:, -1]``
#   of a padded batch is *not* the last real step: use ``pack_padded_sequence`` and ``h_n``,
#   or pick ``output[i, lengths[i] - 1]``.
# * Attention is ``softmax(QK^T / sqrt(d)) V``; multi-head attention runs it on slices of the
#   projected features. Mind the mask conventions: ``True`` means *attend* for
#   ``scaled_dot_product_attention`` and *ignore* for ``key_padding_mask``.
# * A Transformer needs position information; ``nn.TransformerEncoder`` with
#   ``norm_first=True`` takes ``enable_nested_tensor=False``.
# * Compare models over several seeds before calling one better: here the LSTM and the
#   Transformer ended within two percentage points of each other.
#
# Where to go next
# ----------------
# `Debugging and reproducibility <../11_debugging/>`_ shows what to do when training goes wrong:
# overfitting one batch, gradient norms per layer, finding NaNs, and runs that repeat exactly.
