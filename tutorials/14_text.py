"""
Text end to end: a small language model
=======================================

A language model reads text one token at a time and predicts the next one. This tutorial
builds one from nothing but PyTorch and a real English text that ships with Python: it turns
the text into token ids, batches pieces of different lengths with padding, trains a small
causal Transformer, measures it on text it never saw against simple counting models, and
generates text with greedy decoding, temperature and top-k sampling.

**What you will learn**

* where to find a real corpus without downloading anything, and how to swap in your own text
* how a character tokenizer maps text to ids and back, with ``<pad>`` and ``<unk>`` tokens
* what ``nn.Embedding(padding_idx=...)`` does (a zero row that gets no gradient) and what it
  does not do (the loss needs ``ignore_index``)
* how to build a causal Transformer language model from ``torch.nn`` modules: token and
  position embeddings, a causal mask, and a check that no position sees the future
* what perplexity is, and how to compare a model with honest baselines on held-out text
* how greedy decoding, temperature and top-k sampling pick the next token, and what a seeded
  ``torch.Generator`` makes repeatable

**Prerequisites**

* `Training <../05_training/>`_ (the training loop, AdamW, learning-rate schedules)
* `Sequences <../10_sequences/>`_ (padding, attention, causal masks, ``nn.TransformerEncoder``)

The model is tiny and trains for 1200 steps, so the whole page runs in under a minute on a
CPU. The training section says what to change for a real run.
"""

# %%
# The corpus: Python's own reference manual
# -----------------------------------------
# Every Python installation carries an English text from its reference documentation (the
# language reference and the built-in types): the module ``pydoc_data.topics``, generated from
# the Python documentation when Python is released.
# It is what ``help("for")`` prints at the Python prompt: a dict from topic names
# (``"for"``, ``"assignment"``, ``"typesmapping"``, ...) to plain-text pages. That makes it a
# corpus every reader already has, with no download. It changes a little from one Python
# release to the next, so your numbers may differ slightly from the ones below.
#
# To train on your own text instead, put ``.txt`` files (UTF-8) in a folder ``my_texts`` in
# the folder you run this from: one file per document, since the held-out text below is made
# of whole documents. The ``if`` below then uses them.
from pathlib import Path
from pydoc_data.topics import topics

MY_TEXTS = Path("my_texts")
if MY_TEXTS.is_dir():
    documents = {p.stem: p.read_text(encoding="utf-8") for p in sorted(MY_TEXTS.glob("*.txt"))}
else:
    documents = dict(topics)

print(f"{len(documents)} documents, {sum(map(len, documents.values())):,} characters")
print(documents.get("for", documents[min(documents)])[:400])  # with your texts: the first

# %%
# Training and held-out text
# --------------------------
# Perplexity is only meaningful on text the model did not train on. The documents are split,
# not the characters: every tenth document (in name order) is held out whole, so the model is
# measured on pages it never saw, not on sentences whose neighbours it memorised. But these
# documents repeat each other: many topics are sections of others (``"in"`` is part of
# ``"comparisons"``), and ``"else"`` is ``"if"`` under another name. So, longest document
# first, every paragraph already found in a longer document is dropped; otherwise held-out
# text would also be training text. The training documents are joined into one long string;
# training windows may cross from one document into the next, as they do in most
# language-model training.
import textwrap

seen_text = ""
for name in sorted(documents, key=lambda name: (-len(documents[name]), name)):
    paragraphs = [p for p in documents[name].split("\n\n") if p not in seen_text]
    documents[name] = "\n\n".join(paragraphs)
    seen_text += "\n\n" + documents[name]
documents = {name: text for name, text in documents.items() if text}
print(f"without repeated paragraphs: {sum(map(len, documents.values())):,} characters")
names = sorted(documents)
held_out_names = names[::10]
train_names = [name for name in names if name not in held_out_names]
train_text = "\n".join(documents[name] for name in train_names)
held_out_docs = [documents[name] for name in held_out_names]
print(f"training: {len(train_names)} documents, {len(train_text):,} characters")
print(f"held out: {len(held_out_docs)} documents, {sum(map(len, held_out_docs)):,} characters")
print(textwrap.fill("held-out documents: " + ", ".join(held_out_names), width=76))
assert not any(p in train_text for doc in held_out_docs for p in doc.split("\n\n"))

# %%
# A character tokenizer
# ---------------------
# A tokenizer maps text to integer ids and back. The simplest one gives every character its
# own id. Its vocabulary comes from the *training* text only, plus two special tokens: ``<pad>``
# (id 0), which fills the end of short sequences in a batch, and ``<unk>`` (id 1), which
# stands for any character the training text does not contain. ``decode`` drops padding and
# writes ``<unk>`` where a character was unknown.
#
# Most large language models use *subword* tokenizers instead, often byte-pair encoding
# (BPE): it starts from characters or bytes and repeatedly merges the most frequent adjacent
# pair into a new token, so that common words become one token. Exercise 1 writes that merge
# step. Characters keep this page short and its vocabulary small.
PAD, UNK = 0, 1
itos = ["<pad>", "<unk>", *sorted(set(train_text))]  # id -> token
stoi = {token: i for i, token in enumerate(itos)}  # token -> id
V = len(itos)


def encode(text):
    return [stoi.get(ch, UNK) for ch in text]


def decode(ids):
    return "".join(itos[i] for i in ids if i != PAD)


print(f"vocabulary: {V} tokens (2 special + {V - 2} characters)")
print("encode('for x in y:') =", encode("for x in y:"))
assert decode(encode(train_text)) == train_text  # lossless on every known character
print("decode(encode('naïve → ok')) =", repr(decode(encode("naïve → ok"))))
unknown = sum(ch not in stoi for doc in held_out_docs for ch in doc)
print(f"held-out characters missing from the vocabulary: {unknown}")

# %%
# Held-out batches: chunks and padding
# ------------------------------------
# A language model learns from pairs ``(input, target)`` in which the target is the input
# shifted by one token: at every position it predicts the next token. Each held-out document
# is cut into chunks of at most ``BLOCK`` inputs (the model's context length) and their
# targets. The last chunk of a document is shorter, so ``pad_sequence`` fills it up with
# ``<pad>`` into one rectangular ``(chunks, BLOCK)`` batch. Every held-out character except the
# first of its document is a target exactly once.
import torch
from torch.nn.utils.rnn import pad_sequence

torch.manual_seed(0)
device = torch.accelerator.current_accelerator(check_available=True) or torch.device("cpu")
BLOCK = 64

inputs, targets = [], []
for doc in held_out_docs:
    ids = encode(doc)
    for start in range(0, len(ids) - 1, BLOCK):
        piece = torch.tensor(ids[start : start + BLOCK + 1])
        inputs.append(piece[:-1])
        targets.append(piece[1:])
x_held = pad_sequence(inputs, batch_first=True, padding_value=PAD)
y_held = pad_sequence(targets, batch_first=True, padding_value=PAD)
n_targets = int((y_held != PAD).sum())
print(f"held-out batch {tuple(x_held.shape)}; {n_targets:,} targets, ", end="")
print(f"{int((y_held == PAD).sum()):,} padding positions")
assert n_targets == sum(len(doc) - 1 for doc in held_out_docs)
print(f"the last chunk holds {len(inputs[-1])} inputs, padded to {BLOCK}")

# %%
# ``nn.Embedding`` and ``padding_idx``
# ------------------------------------
# The model's first layer is an ``nn.Embedding``: a table with one learned vector per token id,
# looked up by index. With ``padding_idx=PAD`` the ``<pad>`` row starts at zero and its gradient
# is always zero, so no optimizer step moves it: every ``<pad>`` looks up the same zero vector
# however long training runs. Below, a loss whose gradient is 1 at every position, padding
# included, is backpropagated through a table with and without ``padding_idx``, and one
# optimizer step is taken.
from torch import nn

batch = pad_sequence(
    [torch.tensor(encode("for x in y")), torch.tensor(encode("if"))],
    batch_first=True,
    padding_value=PAD,
)
print(batch)
for padding_idx in (PAD, None):
    torch.manual_seed(0)
    table = nn.Embedding(V, 8, padding_idx=padding_idx)
    pad_before = table.weight[PAD].detach().clone()
    vectors = table(batch)  # (2, 10, 8)
    vectors.sum().backward()  # d(loss)/d(vector) is 1 everywhere, at padded positions too
    pad_grad = table.weight.grad[PAD].abs().sum().item()
    torch.optim.SGD(table.parameters(), lr=0.1).step()
    pad_moved = (table.weight[PAD] - pad_before).abs().sum().item()
    print(f"padding_idx={padding_idx}: <pad> row's |gradient| {pad_grad:.3f}, ", end="")
    print(f"moved by the step {pad_moved:.3f}")
    if padding_idx == PAD:
        assert (vectors[1, 2:] == 0).all() and pad_grad == 0 and pad_moved == 0
        assert table.weight.grad[batch[0, 0]].abs().sum() > 0  # real tokens do learn
    else:  # 8 padded positions x 8 dimensions, each with gradient 1
        assert pad_grad == 8 * int((batch == PAD).sum()) and pad_moved > 0

# %%
# ``padding_idx`` only keeps the ``<pad>`` vector fixed at zero. The model still makes a
# prediction at every padded position, and attention could still look at padded tokens. The
# loss has to skip padded *targets* itself: ``F.cross_entropy(..., ignore_index=PAD)``, used
# below. In this causal model, padding at the end of a sequence is never seen by a real
# position (each position looks only backwards), which the evaluation section checks.

# %%
# Perplexity and honest baselines
# -------------------------------
# A language model's loss is the cross-entropy of the next token: the mean of
# :math:`-\log p(\text{target})` over all targets, in nats. Its exponential is the
# *perplexity*,
#
# .. math::
#
#    \mathrm{PPL} = \exp\Big(-\frac{1}{N}\sum_{t=1}^{N} \log p(x_t \mid x_{<t})\Big),
#
# the number of equally likely tokens the model is, on average, choosing between. A model that
# gives every token the same probability has perplexity exactly ``V``. A model only earns its
# keep if it beats cheap *counting* models, so the baselines are n-gram tables counted on the
# training text: the unigram (how often each character occurs), the bigram (which character
# follows which), the trigram (which follows each pair of characters) and the 4-gram (which
# follows each three). ``torch.unique`` counts the n-grams, each written as one integer (its
# ids as the digits of a number in base ``V``), and ``torch.searchsorted`` looks counts up.
# Counts are smoothed by adding ``k`` to every one, so that no held-out n-gram has probability
# zero; each table gets its best ``k`` of three, picked *on the held-out text*, an advantage
# the Transformer does not get. All models are scored by one function on the same targets.
import math

import torch.nn.functional as F


@torch.no_grad()
def perplexity(model, x=x_held, y=y_held, batch_size=128):
    """exp(mean negative log-likelihood) of the targets in y, skipping padding."""
    total, count = 0.0, 0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i : i + batch_size].to(device), y[i : i + batch_size].to(device)
        logits = model(xb)  # (batch, steps, V)
        nll = F.cross_entropy(logits.flatten(0, 1), yb.flatten(), ignore_index=PAD, reduction="sum")
        total, count = total + nll.item(), count + int((yb != PAD).sum())
    return math.exp(total / count)


train_ids = torch.tensor(encode(train_text))


def ngram_keys(ids, n):
    """Each run of n ids in the last dimension as one integer: the ids as digits in base V."""
    keys = torch.zeros_like(ids[..., n - 1 :])
    for i in range(n):
        keys = keys * V + ids[..., i : ids.size(-1) - n + 1 + i]
    return keys


def ngram_model(n, k, shorter=None):
    """log P(next | previous n-1 tokens) from add-k smoothed counts of the training text; the
    ``shorter`` model predicts the first tokens of a chunk, where n-1 tokens do not fit."""
    seen, counts = torch.unique(ngram_keys(train_ids, n), return_counts=True)  # sorted keys
    seen, counts = seen.to(device), counts.to(device)

    def predict(x):
        logits = shorter(x) if shorter else torch.zeros(*x.shape, V, device=device)
        context = ngram_keys(x, n - 1) if n > 1 else torch.zeros_like(x)  # n=1: no context
        candidates = context.unsqueeze(-1) * V + torch.arange(V, device=device)  # every next id
        at = torch.searchsorted(seen, candidates).clamp(max=len(seen) - 1)
        smoothed = torch.where(seen[at] == candidates, counts[at], 0) + k
        logits[:, max(n - 2, 0) :] = (smoothed / smoothed.sum(dim=-1, keepdim=True)).log()
        return logits

    return predict


baselines = {"uniform": perplexity(lambda x: torch.zeros(*x.shape, V, device=device))}
best = None  # the best model so far, which predicts where a longer context does not fit
for n, name in [(1, "unigram"), (2, "bigram"), (3, "trigram"), (4, "4-gram")]:
    tried = {k: ngram_model(n, k, shorter=best) for k in (1.0, 0.1, 0.01)}
    scores = {k: perplexity(model) for k, model in tried.items()}
    best_k = min(scores, key=scores.get)
    best, baselines[name] = tried[best_k], scores[best_k]
    print(f"{name:>8}: perplexity for k = 1, 0.1, 0.01:", end=" ")
    print(", ".join(f"{s:.2f}" for s in scores.values()), f"-> k = {best_k:g}")
print("baselines:", ", ".join(f"{name} {ppl:.2f}" for name, ppl in baselines.items()))
assert math.isclose(baselines["uniform"], V, rel_tol=1e-5)
assert list(baselines.values()) == sorted(baselines.values(), reverse=True)

unseen = {}
for n in (4, 6, 8):
    seen_grams = {train_text[i : i + n] for i in range(len(train_text) - n + 1)}
    grams = [doc[i : i + n] for doc in held_out_docs for i in range(len(doc) - n + 1)]
    unseen[n] = sum(gram not in seen_grams for gram in grams) / len(grams)
    print(f"held-out {n}-grams that never occur in the training text: {unseen[n]:.0%}")
assert unseen[4] < unseen[6] < unseen[8]

# %%
# The uniform model's perplexity is the vocabulary size, as promised. Each character of
# context cuts the perplexity, but a count table runs out of data as its context grows: the
# longer the n-gram, the larger the share of held-out ones the training text never contains,
# and for those add-k smoothing can only spread its ``k`` evenly. Count models get further by
# falling back on shorter contexts where a long one is rare (Kneser-Ney smoothing, the
# standard before neural language models), so these tables are simple baselines, not the
# best a count model can do. A neural model shares what it learns across similar contexts
# instead.

# %%
# A causal Transformer language model
# -----------------------------------
# The model, in the shape of GPT-style language models but tiny:
#
# * ``tokens``: an ``nn.Embedding`` with ``padding_idx``, one vector per token id;
# * ``positions``: a second ``nn.Embedding`` with one learned vector per position
#   ``0 .. BLOCK - 1``, added to the token vectors. Attention weighs the other positions by
#   their content, not by where they stand, and the next character depends very much on where
#   the previous ones stand;
# * a stack of ``nn.TransformerEncoderLayer`` blocks (self-attention and a feed-forward
#   network, pre-norm) run with a *causal mask*: position ``t`` may attend to positions
#   ``0 .. t`` only, so the prediction of token ``t + 1`` never sees it. Without the mask,
#   the input at position ``t + 1`` *is* the target of position ``t``, and the model could
#   simply read the answer;
# * a linear layer from the last hidden state to ``V`` logits.
#
# A "decoder-only" model like this is an encoder stack with a causal mask (PyTorch's
# ``nn.TransformerDecoder`` adds cross-attention to a second input, which a language model
# does not have). The mask is additive: ``0`` where attention is allowed, ``-inf`` above the
# diagonal. ``is_causal=True`` tells the layers that the mask is causal, so they may use a
# faster kernel.
print(nn.Transformer.generate_square_subsequent_mask(5))


class CharTransformer(nn.Module):
    def __init__(self, vocab_size, block_size, d_model=64, nhead=4, num_layers=2):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, d_model, padding_idx=PAD)
        self.positions = nn.Embedding(block_size, d_model)
        layer = nn.TransformerEncoderLayer(
            d_model,
            nhead,
            dim_feedforward=4 * d_model,
            dropout=0.0,
            batch_first=True,
            norm_first=True,
        )
        self.blocks = nn.TransformerEncoder(
            layer, num_layers, norm=nn.LayerNorm(d_model), enable_nested_tensor=False
        )
        self.head = nn.Linear(d_model, vocab_size)

    def forward(self, ids):  # ids: (batch, steps) with steps <= block_size
        steps = ids.size(1)
        h = self.tokens(ids) + self.positions(torch.arange(steps, device=ids.device))
        mask = nn.Transformer.generate_square_subsequent_mask(steps, device=ids.device)
        return self.head(self.blocks(h, mask=mask, is_causal=True))  # (batch, steps, V)


torch.manual_seed(0)
model = CharTransformer(V, BLOCK).to(device)
print(f"{sum(p.numel() for p in model.parameters()):,} parameters")

# %%
# Checking that the model cannot see the future
# ---------------------------------------------
# A mask bug is silent: the training loss just drops suspiciously fast. So test the property
# directly: change the token at position 10 and compare the logits. Positions before 10 must
# not change at all; position 10 and later, which see the change, do. Check both modes: in
# evaluation mode without gradients, ``nn.TransformerEncoderLayer`` runs a fused "fast path"
# with other kernels than in training, so one mode passing says nothing about the other.
probe = torch.tensor([encode('The "while" statement is used for repeated execution as long')])
probe = probe[:, :BLOCK].to(device)
changed = probe.clone()
changed[0, 10] = encode("#")[0]
for mode in ("training", "evaluation"):
    model.train(mode == "training")
    with torch.no_grad():
        before, after = model(probe), model(changed)
    difference = (before - after).abs().amax(dim=-1)[0]  # per position
    print(f"{mode:>10}: max change at positions 0-9 {difference[:10].max().item():.1e},", end="")
    print(f" min at 10 and later {difference[10:].min().item():.1e}")
    torch.testing.assert_close(before[:, :10], after[:, :10])
    assert (difference[10:] > 0).all()

# %%
# Training
# --------
# Each step draws 24 random windows of ``BLOCK + 1`` characters from the training text with a
# seeded generator: the first ``BLOCK`` are the inputs, the last ``BLOCK`` the targets. AdamW
# with a peak learning rate of 0.02, a linear warm-up over the first 60 steps and a cosine
# decay to a tenth of the peak, and gradient clipping at norm 1. Every 100 steps the model is
# scored on the held-out text. ``train`` runs a number of steps and can be called again: the
# model, optimizer, schedule and generator carry on where they stopped.
#
# These settings are small so that the page runs in under a minute on a CPU. For a real run: a
# larger corpus (a book, or many), a subword tokenizer, ``BLOCK`` of several hundred tokens,
# ``d_model`` of 256 or more with 4 to 12 layers and some dropout, tens of thousands of steps
# on an accelerator, and a smaller peak learning rate (around ``1e-3`` to ``3e-4``) as the model
# grows.
STEPS, BATCH, WARMUP, PEAK_LR = 1200, 24, 60, 2e-2


def lr_factor(step):
    if step < WARMUP:
        return (step + 1) / WARMUP
    progress = (step - WARMUP) / (STEPS - WARMUP)
    return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress))


def random_windows(generator):
    starts = torch.randint(len(train_ids) - BLOCK - 1, (BATCH,), generator=generator)
    windows = torch.stack([train_ids[s : s + BLOCK + 1] for s in starts.tolist()])
    return windows[:, :-1].to(device), windows[:, 1:].to(device)


def evaluate():
    model.eval()
    held_out_curve.append((len(train_losses), perplexity(model)))
    print(f"step {len(train_losses):4d}: held-out perplexity {held_out_curve[-1][1]:6.2f}", end="")
    recent = train_losses[-100:]
    print(f", training loss (last 100 steps) {sum(recent) / len(recent):.3f}" if recent else "")


def train(steps):
    for _ in range(steps):
        model.train()
        x, y = random_windows(windows_generator)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
        optimizer.step()
        scheduler.step()
        train_losses.append(loss.item())
        if len(train_losses) % 100 == 0:
            evaluate()
    model.eval()


torch.manual_seed(0)
model = CharTransformer(V, BLOCK).to(device)
optimizer = torch.optim.AdamW(model.parameters(), lr=PEAK_LR)
scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor)
windows_generator = torch.Generator().manual_seed(0)
train_losses, held_out_curve = [], []
evaluate()  # step 0: the untrained model
train(STEPS // 2)

# %%
# The held-out perplexity is still falling, so train on: the other half of the schedule,
# over which the learning rate comes down to a tenth of its peak.
assert held_out_curve[-1][1] < held_out_curve[-2][1]
train(STEPS - len(train_losses))
assert len(train_losses) == STEPS
assert model.tokens.weight[PAD].abs().sum() == 0  # still zero after training

# %%
# The plot shows the loss in nats per character, with each baseline's ``log(perplexity)`` as
# a dashed line. The untrained model is worse than the uniform guess: its random logits favour
# some characters over others at random, which costs more on average than favouring none.
# Training then passes the baselines one after the other, the weakest first (the steps are
# printed under the plot).
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(range(1, STEPS + 1), train_losses, color="tab:blue", alpha=0.35, label="training batch")
steps_seen, held_ppl = zip(*held_out_curve, strict=True)
ax.plot(steps_seen, [math.log(p) for p in held_ppl], "o-", color="tab:orange", label="held out")
for name, ppl in baselines.items():
    ax.axhline(math.log(ppl), color="0.4", linestyle="--", linewidth=1)
    label = f"{name} (perplexity {ppl:.2f})"
    ax.text(STEPS, math.log(ppl), label, ha="right", va="bottom", fontsize=8, color="0.3")
ax.set_xlabel("training step")
ax.set_ylabel("cross-entropy (nats per character)")
ax.set_xlim(0, STEPS)
ax.legend(loc="upper right", bbox_to_anchor=(1, 0.9))
ax.set_title("A character Transformer on Python's reference manual")
fig.tight_layout()
plt.show()

assert held_out_curve[0][1] > baselines["uniform"]
first_below = {}
for name, ppl in baselines.items():
    first_below[name] = min(step for step, model_ppl in held_out_curve if model_ppl < ppl)
    print(f"held-out perplexity below the {name} baseline from step {first_below[name]}")
assert list(first_below.values()) == sorted(first_below.values())

# %%
# Perplexity on held-out text
# ---------------------------
# The final model against the baselines, on the same held-out targets. Perplexity divided by
# two means the model is, on average, choosing between half as many characters. *Bits per
# character*, ``log2(perplexity)``, is the same measure on another scale: the average number
# of bits per character that an ideal compressor driven by the model (an arithmetic coder)
# would need for this text.
results = {**baselines, "Transformer": perplexity(model)}
print(f"{'model':>11} | perplexity | bits per character")
for name, ppl in results.items():
    print(f"{name:>11} | {ppl:10.2f} | {math.log2(ppl):.2f}")
for name in baselines:
    assert results["Transformer"] < baselines[name], name
ratio = results["Transformer"] / min(baselines.values())
print(f"the Transformer's perplexity is {ratio:.0%} of the best count model's")

# %%
# The last check of the padding story: the held-out batch was padded, and a real position must
# predict the same with and without the padding after it. The last chunk of the last document
# is short; run it alone, without padding, and compare with its row of the padded batch.
short = inputs[-1].unsqueeze(0).to(device)
row = len(inputs) - 1
with torch.no_grad():
    alone = model(short)[0]
    in_batch = model(x_held[row : row + 1].to(device))[0, : short.size(1)]
print(f"chunk of {short.size(1)} tokens padded to {BLOCK}: largest logit difference ", end="")
print(f"{(alone - in_batch).abs().max().item():.1e}")
torch.testing.assert_close(alone, in_batch, rtol=1e-4, atol=1e-4)

# %%
# Generating text: one token at a time
# ------------------------------------
# Generation runs the model on the text so far, turns the logits at the last position into a
# choice of the next token, appends it and repeats. The model has ``BLOCK`` position vectors,
# so it sees at most the last ``BLOCK`` tokens. (This loop recomputes every position at every
# step; real implementations keep the attention keys and values of earlier positions, a "KV
# cache", and compute only the new one.) Three ways to choose:
#
# * **greedy**: always the most likely token (``temperature=0`` below). No randomness.
# * **temperature**: sample from ``softmax(logits / temperature)``. Below 1 the distribution
#   sharpens towards the greedy choice; above 1 it flattens towards uniform.
# * **top-k**: sample only among the ``k`` most likely tokens, the rest get probability zero.
#
# Sampling draws from a ``torch.Generator`` passed in explicitly, so a seed fixes the text and
# nothing else in the program consumes or disturbs those random numbers. ``show`` prints a
# text with its long lines wrapped, so that it fits the page.


def show(text, width=76):
    for line in text.split("\n"):  # wrap each line, keeping its spaces and indentation
        pieces = textwrap.wrap(line, width, replace_whitespace=False, drop_whitespace=False)
        print("\n".join(pieces))


@torch.no_grad()
def next_logits(model, ids):
    context = torch.tensor([ids[-BLOCK:]], device=device)
    return model(context)[0, -1]  # the logits for the token after the last one


def choose(logits, temperature=1.0, top_k=None, generator=None):
    if temperature == 0:
        return int(logits.argmax())
    logits = logits / temperature
    if top_k is not None:
        kth_largest = logits.topk(top_k).values[-1]
        logits = logits.masked_fill(logits < kth_largest, float("-inf"))
    return int(torch.multinomial(logits.softmax(dim=-1), 1, generator=generator))


def generate(model, prompt, length, **how):
    ids = encode(prompt)
    start = len(ids)
    for _ in range(length):
        ids.append(choose(next_logits(model, ids), **how))
    return decode(ids[start:])


prompt = held_out_docs[0][:BLOCK]  # the start of a document the model never saw
greedy = generate(model, prompt, 160, temperature=0)
show(prompt + "|" + greedy)  # "|" marks where the prompt ends and the generated text begins

# %%
# Greedy decoding is a function of the prefix: run again, it repeats itself exactly, and
# continuing from the prompt plus its first 60 characters gives the rest of the same text.
# With no randomness it also tends to fall into a loop, the same few words again and again,
# which is one reason why text generation usually samples: count the distinct words.
assert generate(model, prompt, 160, temperature=0) == greedy
assert generate(model, prompt + greedy[:60], 100, temperature=0) == greedy[60:]
print("greedy: the same text again, and the same text from a longer prefix: True")


def distinct_words(text):
    words = text.split()
    return len(set(words)), len(words)


greedy_distinct, greedy_words = distinct_words(greedy)
print(f"greedy text: {greedy_distinct} distinct words out of {greedy_words}")

# %%
# Temperature
# -----------
# Temperature changes how spread out the next-token distribution is. For the character after
# the prompt ``"for x in "``, here are the five most likely characters and the *entropy* of the
# whole distribution (in bits: 0 means one certain choice, ``log2(V)`` all equally likely) at
# three temperatures. The entropy rises with the temperature. Then two samples from the same
# seed: at a low temperature the text sticks to the likeliest characters and, like greedy
# decoding, can get stuck repeating them; at 1 it samples the model's own distribution,
# mistakes included.
logits = next_logits(model, encode("for x in "))
entropies = []
for temperature in (0.5, 1.0, 2.0):
    probs = (logits / temperature).softmax(dim=-1)
    entropies.append(-(probs * probs.clamp_min(1e-30).log2()).sum().item())
    top = probs.topk(5)
    pairs = zip(top.indices.tolist(), top.values.tolist(), strict=True)
    shown = " ".join(f"{itos[i]!r}:{p:.2f}" for i, p in pairs)
    print(f"T = {temperature}: entropy {entropies[-1]:.2f} bits; {shown}")
assert entropies[0] < entropies[1] < entropies[2] < math.log2(V)

for temperature in (0.5, 1.0):
    generator = torch.Generator(device=device).manual_seed(0)
    sample = generate(model, prompt, 160, temperature=temperature, generator=generator)
    print(f"\nT = {temperature}, seed 0:")
    show(sample)

# %%
# Top-k sampling and seeds
# ------------------------
# Top-k removes the long tail of unlikely characters that plain sampling now and then picks.
# Two properties hold by construction, and are checked here: a token outside the ``k`` most
# likely is never emitted (every step of a top-5 sample is replayed and its token looked up
# among the step's top 5), and the same seed gives the same text. Another seed gives another
# text (not by construction, but two seeds drawing the same 160 characters is vanishingly
# unlikely).
K = 5
sample = generate(
    model, prompt, 160, top_k=K, generator=torch.Generator(device=device).manual_seed(0)
)
ids = encode(prompt + sample)
for t in range(len(encode(prompt)), len(ids)):
    step_logits = next_logits(model, ids[:t])
    assert step_logits[ids[t]] >= step_logits.topk(K).values[-1], t  # among the top K
print(f"top-{K}, seed 0:")
show(sample)
print(f"\nevery one of the {len(sample)} sampled characters was among its step's top {K}: True")
sample_distinct, sample_words = distinct_words(sample)
print(f"top-{K} sample: {sample_distinct} distinct words out of {sample_words}", end=" ")
print(f"(greedy: {greedy_distinct} out of {greedy_words})")
assert greedy_distinct / greedy_words < sample_distinct / sample_words

again = generate(
    model, prompt, 160, top_k=K, generator=torch.Generator(device=device).manual_seed(0)
)
other = generate(
    model, prompt, 160, top_k=K, generator=torch.Generator(device=device).manual_seed(1)
)
assert again == sample and other != sample
print("seed 0 again: the same text; seed 1: a different text")

# %%
# The samples have the look of the reference manual (its indentation, quotes, brackets and
# English-looking words) with little sense. That is what 1200 steps of a tiny model buy; a
# real run starts from the settings given in the training section. The random numbers
# depend on the device (and the model's numbers a little too), so a GPU draws other samples
# than a CPU from the same seed; on one machine with one PyTorch version, a seed repeats its
# text.

# %%
# Exercises
# ---------
# Each exercise gives you code to complete and a checker that runs it on fixed inputs and
# prints ``correct``, or ``not correct:`` with what was expected and what came back. Edit the
# code and run its cell again. Every exercise cell imports what it needs, so it also works on
# its own in the downloaded notebook. A reference solution follows each exercise, collapsed.

# %%
# Exercise 1: one merge of byte-pair encoding
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Byte-pair encoding (BPE) builds a subword vocabulary by repeating one step: find the most
# frequent pair of adjacent tokens and replace it by a new token. Write ``bpe_merge(ids,
# new_id)``: count every adjacent pair ``(ids[i], ids[i + 1])`` (``[5, 5, 5]`` holds ``(5, 5)``
# twice); take the most frequent (on a tie, the one whose first occurrence comes first);
# replace its occurrences by ``new_id``, scanning left to right without overlaps (so
# ``[5, 5, 5]`` becomes ``[new_id, 5]``). Return the pair and the new list, and leave ``ids``
# unchanged.
from collections import Counter
from itertools import pairwise


def check_bpe_merge(candidate) -> bool:
    """Run ``candidate`` on fixed id lists; print 'correct' or what is wrong; return bool."""
    cases = [  # ids, new_id, the pair to merge, the ids after the merge
        ([1, 2, 3, 1, 2, 4, 1, 2], 9, (1, 2), [9, 3, 9, 4, 9]),
        ([5, 5, 5, 6, 5, 5, 5], 9, (5, 5), [9, 5, 6, 9, 5]),  # left to right, no overlaps
        ([3, 1, 4, 1, 5], 7, (3, 1), [7, 4, 1, 5]),  # every pair once: the first one wins
        ([1, 2, 3, 4, 3, 4, 1, 2], 8, (1, 2), [8, 3, 4, 3, 4, 8]),  # a tie: (1, 2) is first
        ([5, 5, 5, 1, 2, 1, 2], 6, (5, 5), [6, 5, 1, 2, 1, 2]),  # overlapping pairs all count
        ([7, 8, 2, 7, 8, 2, 8, 2], 9, (8, 2), [7, 9, 7, 9, 9]),
    ]
    for ids, new_id, pair, merged in cases:
        call = f"bpe_merge({ids}, {new_id})"
        given = list(ids)
        try:
            got = candidate(given, new_id)
        except Exception as exc:
            print(f"not correct: {call} raised {type(exc).__name__}: {exc}")
            return False
        if given != ids:
            print(f"not correct: it changed its input {ids} into {given}")
            return False
        try:
            got_pair, got_ids = tuple(got[0]), list(got[1])
        except (TypeError, IndexError, KeyError):
            got_pair = got_ids = None
        if not isinstance(got, tuple) or len(got) != 2 or got_pair is None:
            print(f"not correct: expected a tuple (pair, new ids), got {got!r}")
            return False
        if got_pair != pair or got_ids != merged:
            print(f"not correct: {call} should give pair {pair} and {merged},")
            print(f"             got pair {got_pair} and {got_ids}")
            return False
    print("correct")
    return True


def bpe_merge(ids, new_id):
    # Your code here: count the pairs (Counter and pairwise help), pick one, merge it.
    return None


check_bpe_merge(bpe_merge)


# %% tags=["solution"]
# Reference solution.
def bpe_merge(ids, new_id):
    # Counter keeps the order in which pairs were first seen, and most_common keeps that order
    # among equal counts: on a tie it returns the pair that occurs first.
    pair = Counter(pairwise(ids)).most_common(1)[0][0]
    merged, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            merged.append(new_id)
            i += 2  # skip both halves: no overlaps
        else:
            merged.append(ids[i])
            i += 1
    return pair, merged


assert check_bpe_merge(bpe_merge)

# Ten merges on a sentence: each one makes the sequence shorter and the vocabulary larger.
text_ids = list(b"the for statement and the while statement")  # UTF-8 bytes
vocabulary = {i: bytes([i]) for i in range(256)}
lengths = [len(text_ids)]
for new_id in range(256, 266):
    pair, text_ids = bpe_merge(text_ids, new_id)
    vocabulary[new_id] = vocabulary[pair[0]] + vocabulary[pair[1]]
    lengths.append(len(text_ids))
assert all(before > after for before, after in pairwise(lengths))
print("tokens after each merge:", lengths)
print("|".join(vocabulary[i].decode() for i in text_ids))

# %%
# Exercise 2: top-p (nucleus) filtering
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Top-k keeps a fixed number of tokens; *top-p* keeps the smallest set of most likely tokens
# whose probabilities add up to at least ``p``, so it keeps few tokens when the model is sure
# and many when it is not. Write ``top_p_filter(logits, p)`` for logits of shape
# ``(batch, vocab)``: return logits of the same shape in which every token outside each row's
# set is ``-inf`` and the kept tokens keep their logits unchanged. The token that makes the
# sum reach ``p`` is kept.
import torch


def check_top_p(candidate) -> bool:
    """Run ``candidate`` on fixed distributions; print 'correct' or what is wrong."""
    probs = torch.tensor([[0.05, 0.5, 0.1, 0.2, 0.15], [0.3, 0.04, 0.06, 0.35, 0.25]])
    logits = probs.log() + 1.0  # logits are log-probabilities up to a constant per row
    cases = [(0.3, [[1], [3]]), (0.6, [[1, 3], [0, 3]]), (0.8, [[1, 3, 4], [0, 3, 4]])]
    for p, kept in cases:
        try:
            got = candidate(logits.clone(), p)
        except Exception as exc:
            print(f"not correct: for p={p} it raised {type(exc).__name__}: {exc}")
            return False
        if not isinstance(got, torch.Tensor) or got.shape != logits.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
            print(f"not correct: expected a tensor of shape {tuple(logits.shape)}, got {shape}")
            return False
        got_kept = [torch.isfinite(row).nonzero().flatten().tolist() for row in got]
        if got_kept != kept:
            print(f"not correct: for p={p} expected to keep tokens {kept}, kept {got_kept}")
            return False
        finite = torch.isfinite(got)
        if not torch.equal(got[finite], logits[finite]) or (got[~finite] != float("-inf")).any():
            print(f"not correct: for p={p} kept logits must be unchanged and the others -inf;")
            print(f"             got {got.tolist()}")
            return False
    print("correct")
    return True


def top_p_filter(logits, p):
    # Your code here: sort, add up probabilities, keep up to and including the crossing token.
    return None


check_top_p(top_p_filter)


# %% tags=["solution"]
# Reference solution.
def top_p_filter(logits, p):
    sorted_logits, order = logits.sort(dim=-1, descending=True)
    probs = sorted_logits.softmax(dim=-1)
    # Keep a token if the tokens *before* it add up to less than p: this keeps the token that
    # crosses p, and always the most likely one.
    before = probs.cumsum(dim=-1) - probs
    keep_sorted = before < p
    keep = torch.zeros_like(keep_sorted).scatter(-1, order, keep_sorted)  # back to vocab order
    return logits.masked_fill(~keep, float("-inf"))


assert check_top_p(top_p_filter)

# %%
# Exercise 3: perplexity of a padded batch
# ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
# Write ``masked_perplexity(logits, targets, pad_id)``: ``logits`` has shape ``(batch, steps,
# vocab)``, ``targets`` ``(batch, steps)``, and positions whose target is ``pad_id`` are
# padding. Return the perplexity as a Python float: the exponential of the mean negative
# log-likelihood over all real targets of the batch (every real token counts once, whatever
# the length of its sequence).
import math

import torch
import torch.nn.functional as F


def check_masked_perplexity(candidate) -> bool:
    """Run ``candidate`` on fixed padded batches; print 'correct' or what is wrong."""
    gen = torch.Generator().manual_seed(0)
    for pad_id in (0, 6):
        logits = torch.randn(3, 8, 7, generator=gen) * 2
        targets = torch.randint(0, 7, (3, 8), generator=gen)
        targets[targets == pad_id] = (pad_id + 1) % 7  # no padding before the end
        targets[1, 5:] = pad_id
        targets[2, 2:] = pad_id
        real = targets != pad_id
        nll = -logits.log_softmax(dim=-1).gather(-1, targets.unsqueeze(-1)).squeeze(-1)
        expected = math.exp(nll[real].mean().item())
        try:
            got = candidate(logits.clone(), targets.clone(), pad_id)
        except Exception as exc:
            print(f"not correct: for pad_id={pad_id} it raised {type(exc).__name__}: {exc}")
            return False
        try:
            value = float(got)
        except (TypeError, ValueError, RuntimeError):
            value = None
        if value is None or not math.isclose(value, expected, rel_tol=1e-4):
            print(f"not correct: for pad_id={pad_id} expected {expected:.4f}, got {got!r}")
            return False
    print("correct")
    return True


def masked_perplexity(logits, targets, pad_id):
    # Your code here: the cross-entropy over real targets only, then its exponential.
    return None


check_masked_perplexity(masked_perplexity)


# %% tags=["solution"]
# Reference solution.
def masked_perplexity(logits, targets, pad_id):
    # ignore_index drops padded targets from the sum *and* from the count of the mean.
    nll = F.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=pad_id)
    return math.exp(nll.item())


assert check_masked_perplexity(masked_perplexity)

# %%
# Summary
# -------
# * A real corpus can come with the software you have: ``pydoc_data.topics`` is the Python
#   reference as text. Hold out whole documents, and build the vocabulary from the training
#   text, with ``<unk>`` for the rest and ``<pad>`` for padding.
# * ``nn.Embedding(padding_idx=PAD)`` keeps the padding vector at zero, with no gradient; the
#   loss still needs ``ignore_index=PAD``, and attention a mask, unless (as with right padding
#   in a causal model) no real position can see the padding.
# * A GPT-style language model is token and position embeddings, an ``nn.TransformerEncoder``
#   with a causal mask, and a linear head; test the mask by changing a later token.
# * Perplexity is ``exp(cross-entropy)``; the uniform model scores exactly ``V``. Compare with
#   count models on held-out text: here the Transformer beat add-k tables up to the 4-gram
#   (better-smoothed count models, such as Kneser-Ney's, are harder to beat).
# * Greedy decoding is deterministic and tends to loop; temperature trades safety for variety;
#   top-k never emits a token outside the top ``k``; a seeded ``torch.Generator`` repeats a
#   sample exactly.
#
# Where to go next
# ----------------
# `Profiling and memory <../15_profiling/>`_ measures where a model spends its time and memory,
# and what to change when it is too slow or does not fit.
# `Debugging and reproducibility <../11_debugging/>`_ has the checks to run when a training run
# misbehaves.
