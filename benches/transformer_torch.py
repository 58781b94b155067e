#!/usr/bin/env python3
"""The event Transformer of nesmm written in PyTorch, timed next to ours.

Same model as `src/learn/models/transformer.rs`: token embedding, pre-norm blocks (RMS norm with
a learned gain, eps 1e-5; fused qkv Linear without bias; RoPE on q and k rotating the pairs
(x[i], x[i + half]), base 10000; causal softmax, no attention dropout; output Linear without
bias; MLP Linear + tanh-GELU + Linear with biases; residual and embedding dropout 0.1), a final
RMS norm and a head Linear with bias. Same loss (summed NLL over the masked targets / count), same
optimiser (AdamW lr 1e-3, weight decay 0.01, global-norm clipping at 1.0), same fixed tokens.
Prints training tokens/s (wall and per CPU-second of the process) at 1 and 2 threads for PyTorch
(`torch.set_num_threads`) and for `target/release/examples/transformer_speed`
(`RAYON_NUM_THREADS`; build it first: `cargo build --release --example transformer_speed`;
`TRANSFORMER_SPEED=path` runs another build), and our/PyTorch ratio of each column.
With `--sample DIR` (a model folder, e.g. from `nesmm train --model transformer --max-songs 3
--d-model 256 --layers 4 --heads 4 --d-ff 1024 --max-steps 1 --out DIR`), it also times batch-1
sampling with a KV cache: PyTorch's loop below against `target/release/nesmm generate`.

Debian's python3-torch calls whatever `libblas.so.3` the alternatives system names, by default
the unoptimised reference BLAS; a fair baseline uses OpenBLAS: `apt-get install -y
libopenblas0-openmp` and run with `LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp`
(the header prints which BLAS the process loaded).

On a busy machine PyTorch's 2-thread figures collapse while its OpenMP threads spin-wait, so the
script sets `OMP_WAIT_POLICY=PASSIVE` unless told otherwise; compare the per-CPU-second columns.

Needs Debian's python3-torch: `apt-get install -y python3-torch`, then
`/usr/bin/python3 benches/transformer_torch.py [small|cpu] [steps] [--sample DIR]`
(`cpu`: the CPU training recipe, d_model 256, 4 layers, 4 heads, d_ff 1024, context 1024,
batch 4; `small`: d_model 128, 2 layers, 4 heads, d_ff 512, context 256, batch 8).

Measured 2026-12-07 on the 2-core Xeon (AVX-512) shared with a 1-thread training run
(load average from `uptime` beside each run), PyTorch 1.13 (Debian):
`LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-openmp /usr/bin/python3
benches/transformer_torch.py cpu 2 --sample /tmp/tf` (training tokens/s, wall and per CPU-s):

| threads | PyTorch tok/s | PyTorch tok/CPU-s | load | nesmm tok/s | nesmm tok/CPU-s | load | ratio wall | ratio CPU-s |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| 1 | 673 | 682 | 4.2 | 1004 | 1037 | 4.2 | 1.49 | 1.52 |
| 2 | 649 | 668 | 4.3 | 999 | 1024 | 4.4 | 1.54 | 1.53 |

batch-1 sampling with a KV cache (an untrained model, so `generate` stopped after 228 tokens;
PyTorch's per-token Python loop against our decoder; nesmm's CPU-s include start-up):

| threads | PyTorch tok/s | PyTorch tok/CPU-s | nesmm tok/s | nesmm tok/CPU-s | tokens | load |
|---:|---:|---:|---:|---:|---:|---:|
| 1 | 385 | 399 | 1267 | 991 | 228 | 4.3 |
| 2 | 290 | 298 | 1520 | 1140 | 228 | 4.3 |

`... transformer_torch.py small 4`: 1 thread PyTorch 5441 tok/s (5714 per CPU-s), nesmm 5864
(6068), ratio 1.06 per CPU-s; 2 threads 1.02. With Debian's default reference BLAS PyTorch made
1087 tok/s on `small` (1 thread), a fifth of its OpenBLAS figure.

Before nesmm's fused GELU / RMS norm / RoPE (`src/learn/models/transformer_ops.rs`), same
machine and load, the ratios per CPU-s were 1.04 (1 thread) and 1.21 (2 threads) on `cpu` (nesmm
668 and 736 tok/CPU-s) and 0.69 / 0.68 on `small` (nesmm 4096 and 3964).
Neither side gains from a second thread here: the two cores are busy with other work (load 4),
so the per-CPU-second columns are the fair ones.
"""
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # noqa: E402  (after OMP_WAIT_POLICY, which OpenMP reads at start-up)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

VOCAB = 360
SHAPES = {
    # d_model, layers, heads, d_ff, context, batch
    "cpu": (256, 4, 4, 1024, 1024, 4),
    "small": (128, 2, 4, 512, 256, 8),
}
EPS = 1e-5
DROPOUT = 0.1
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


class RmsNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.gain = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x / (x.pow(2).mean(-1, keepdim=True) + EPS).sqrt() * self.gain


def rope_tables(head_dim, offset, length):
    half = head_dim // 2
    freq = 10000.0 ** (-2.0 * torch.arange(half, dtype=torch.float32) / head_dim)
    angle = torch.arange(offset, offset + length, dtype=torch.float32)[:, None] * freq
    return angle.cos(), angle.sin()


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


class Block(nn.Module):
    def __init__(self, d, heads, d_ff):
        super().__init__()
        self.heads = heads
        self.attn_norm = RmsNorm(d)
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.out = nn.Linear(d, d, bias=False)
        self.mlp_norm = RmsNorm(d)
        self.up = nn.Linear(d, d_ff)
        self.down = nn.Linear(d_ff, d)
        self.drop = nn.Dropout(DROPOUT)

    def split(self, qkv):
        b, t, _ = qkv.shape
        return [z.reshape(b, t, self.heads, -1).transpose(1, 2) for z in qkv.chunk(3, -1)]

    def forward(self, x, cos, sin, causal):
        b, t, d = x.shape
        q, k, v = self.split(self.qkv(self.attn_norm(x)))
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        scores = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
        weights = scores.masked_fill(causal, float("-inf")).softmax(-1)
        ctx = (weights @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.drop(self.out(ctx))
        return x + self.drop(self.down(F.gelu(self.up(self.mlp_norm(x)), approximate="tanh")))

    def step(self, x, cos, sin, cache):
        """One token `[1, 1, d]` against the keys and values cached so far."""
        q, k, v = self.split(self.qkv(self.attn_norm(x)))
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        if cache:
            k, v = torch.cat([cache[0], k], 2), torch.cat([cache[1], v], 2)
        cache[:] = [k, v]
        weights = ((q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5).softmax(-1)
        x = x + self.out((weights @ v).transpose(1, 2).reshape(x.shape))
        return x + self.down(F.gelu(self.up(self.mlp_norm(x)), approximate="tanh"))


class Transformer(nn.Module):
    def __init__(self, d, layers, heads, d_ff):
        super().__init__()
        self.head_dim = d // heads
        self.embed = nn.Embedding(VOCAB, d)
        self.blocks = nn.ModuleList([Block(d, heads, d_ff) for _ in range(layers)])
        self.norm = RmsNorm(d)
        self.head = nn.Linear(d, VOCAB)
        self.drop = nn.Dropout(DROPOUT)

    def nll(self, x, y, mask):
        t = x.shape[1]
        cos, sin = rope_tables(self.head_dim, 0, t)
        causal = torch.ones(t, t, dtype=torch.bool).triu(1)
        h = self.drop(self.embed(x))
        for block in self.blocks:
            h = block(h, cos, sin, causal)
        logp = self.head(self.norm(h)).log_softmax(-1)
        return -(logp.gather(-1, y[..., None])[..., 0] * mask).sum()


def fixed_tokens(batch, t):
    """The tokens of `examples/transformer_speed.rs`: i * 7919 mod 360, targets one higher."""
    ids = torch.arange(batch * t, dtype=torch.long) * 7919 % VOCAB
    return ids.reshape(batch, t), ((ids + 1) % VOCAB).reshape(batch, t)


def train_tps(threads, shape, steps):
    d, layers, heads, d_ff, t, batch = shape
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = Transformer(d, layers, heads, d_ff)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
    x, y = fixed_tokens(batch, t)
    mask = torch.ones(batch, t)

    def step():
        opt.zero_grad()
        loss = m.nll(x, y, mask) / (batch * t)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()

    step()
    c0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    tokens = steps * batch * t
    return tokens / (time.perf_counter() - t0), tokens / max(time.process_time() - c0, 1e-9)


@torch.no_grad()
def sample_tps(threads, shape, tokens=1000):
    d, layers, heads, d_ff, _, _ = shape
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = Transformer(d, layers, heads, d_ff).eval()
    caches = [[] for _ in m.blocks]
    token = torch.zeros(1, 1, dtype=torch.long)
    c0 = time.process_time()
    t0 = time.perf_counter()
    for p in range(tokens):
        cos, sin = rope_tables(m.head_dim, p, 1)
        h = m.embed(token)
        for block, cache in zip(m.blocks, caches):
            h = block.step(h, cos, sin, cache)
        probs = m.head(m.norm(h))[0, 0].softmax(-1)
        token = torch.multinomial(probs, 1)[None]
    return tokens / (time.perf_counter() - t0), tokens / max(time.process_time() - c0, 1e-9)


def ours_train(threads, shape, steps):
    exe = os.environ.get("TRANSFORMER_SPEED") or os.path.join(
        ROOT, "target", "release", "examples", "transformer_speed")
    if not os.path.exists(exe):
        return None
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([exe, *map(str, shape), str(steps)], env=env, capture_output=True,
                         text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def ours_sample(threads, model_dir):
    """`nesmm generate --seconds 120` from nothing: (tokens, seconds) of its `sampled N tokens
    in S s` line, and the child's CPU seconds (start-up and writing the song included)."""
    exe = os.path.join(ROOT, "target", "release", "nesmm")
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    c0 = os.times()
    p = subprocess.run([exe, "generate", "--model", model_dir, "--seconds", "120", "--seed", "1",
                        "--output", os.path.join(model_dir, "bench.mid")], env=env,
                       capture_output=True, text=True, check=True)
    c1 = os.times()
    words = (p.stdout + p.stderr).split()
    i = words.index("sampled")
    tokens, seconds = int(words[i + 1]), float(words[i + 4])
    cpu = (c1.children_user - c0.children_user) + (c1.children_system - c0.children_system)
    return tokens, seconds, cpu


def blas():
    """The BLAS library this process loaded (Debian's default is the slow reference BLAS)."""
    with open("/proc/self/maps") as maps:
        paths = {line.split()[-1] for line in maps if "blas" in line.split()[-1]}
    return ", ".join(sorted(paths)) or "?"


def load():
    return os.getloadavg()[0]


def main():
    args = sys.argv[1:]
    model_dir = None
    if "--sample" in args:
        i = args.index("--sample")
        model_dir = args[i + 1]
        del args[i:i + 2]
    name = args[0] if args else "cpu"
    steps = int(args[1]) if len(args) > 1 else 2
    shape = SHAPES[name]
    d, layers, heads, d_ff, t, batch = shape
    print(f"event Transformer '{name}': vocab {VOCAB}, d_model {d}, {layers} layers, {heads} heads, "
          f"d_ff {d_ff}, batch {batch} x {t} tokens, {steps} timed steps after one warm-up; "
          f"OMP_WAIT_POLICY={os.environ['OMP_WAIT_POLICY']}; PyTorch {torch.__version__} "
          f"with {blas()}")
    print("| threads | PyTorch tok/s | PyTorch tok/CPU-s | load | nesmm tok/s | nesmm tok/CPU-s "
          "| load | ratio wall | ratio CPU-s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for threads in (1, 2):
        pw, pc = train_tps(threads, shape, steps)
        pl = load()
        o = ours_train(threads, shape, steps)
        if o is None:
            print(f"| {threads} | {pw:.0f} | {pc:.0f} | {pl:.1f} | build "
                  "target/release/examples/transformer_speed first | | | | |")
            continue
        ow, oc = o["train_tokens_per_s"], o["train_tokens_per_cpu_s"]
        print(f"| {threads} | {pw:.0f} | {pc:.0f} | {pl:.1f} | {ow:.0f} | {oc:.0f} | {load():.1f} "
              f"| {ow / pw:.2f} | {oc / pc:.2f} |", flush=True)
    if model_dir:
        print("\nbatch-1 sampling with a KV cache, as many tokens as `nesmm generate --seconds 120`"
              " drew")
        print("| threads | PyTorch tok/s | PyTorch tok/CPU-s | nesmm tok/s | nesmm tok/CPU-s (whole "
              "process) | tokens | load |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for threads in (1, 2):
            tokens, seconds, cpu = ours_sample(threads, model_dir)
            sw, sc = sample_tps(threads, shape, tokens)
            print(f"| {threads} | {sw:.0f} | {sc:.0f} | {tokens / seconds:.0f} | {tokens / cpu:.0f} "
                  f"| {tokens} | {load():.1f} |", flush=True)


if __name__ == "__main__":
    main()
