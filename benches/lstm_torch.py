#!/usr/bin/env python3
"""The full LSTM of nesmm written in PyTorch, timed next to ours.

Same model (4 voice embeddings of 32 concatenated, 2-layer LSTM, per-voice heads that see the
hidden state and the earlier voices of the frame), same shapes (batch 32 x 64 frames), same loss
(summed per-voice cross-entropy), same optimiser (AdamW + global-norm clipping). Prints training
frames/s (wall and per CPU-second of the process) and batch-1 sampling frames/s at 1 and 2
threads for PyTorch and for `target/release/examples/learn_bench` (build it first:
`cargo build --release --example learn_bench`; `LEARN_BENCH=path` runs another build). On a busy
machine PyTorch's 2-thread figures collapse while its OpenMP threads spin-wait
(`OMP_WAIT_POLICY=PASSIVE` softens that); compare the per-CPU-second columns there.

Needs Debian's python3-torch: `apt-get install -y python3-torch`, then
`/usr/bin/python3 benches/lstm_torch.py [hidden] [batch] [seq] [steps]`.
"""
import json
import os
import subprocess
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = [78, 78, 90, 18]  # note tokens + rest + boundary, as counted from NES-MDB
NOTES = [77, 77, 89, 17]


class Head(nn.Module):
    def __init__(self, v, hidden, head_hidden):
        super().__init__()
        self.from_hidden = nn.Linear(hidden, head_hidden)
        self.from_voices = nn.ModuleList([nn.Embedding(SIZES[u], head_hidden) for u in range(v)])
        self.out = nn.Linear(head_hidden, SIZES[v])

    def forward(self, h, chosen):
        z = self.from_hidden(h)
        for u, e in enumerate(self.from_voices):
            z = z + e(chosen[..., u])
        return self.out(F.relu(z))


class FullLstm(nn.Module):
    def __init__(self, hidden=128, layers=2, embed=32, head_hidden=64):
        super().__init__()
        self.embeds = nn.ModuleList([nn.Embedding(s, embed) for s in SIZES])
        self.lstm = nn.LSTM(4 * embed, hidden, layers, batch_first=True)
        self.heads = nn.ModuleList([Head(v, hidden, head_hidden) for v in range(4)])

    def embed(self, x):
        return torch.cat([e(x[..., v]) for v, e in enumerate(self.embeds)], -1)

    def loss(self, x, y):
        h, _ = self.lstm(self.embed(x))
        return sum(F.cross_entropy(head(h, y).reshape(-1, SIZES[v]), y[..., v].reshape(-1))
                   for v, head in enumerate(self.heads))


def train_fps(threads, hidden, batch, seq, steps):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = FullLstm(hidden)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.01)
    toks = torch.stack([torch.randint(0, n, (batch, seq + 1)) for n in NOTES], -1)
    x, y = toks[:, :-1], toks[:, 1:]

    def step():
        opt.zero_grad()
        loss = m.loss(x, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()

    step()
    c0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    frames = steps * batch * seq
    return frames / (time.perf_counter() - t0), frames / max(time.process_time() - c0, 1e-9)


@torch.no_grad()
def sample_fps(threads, hidden, frames=2000):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    m = FullLstm(hidden).eval()
    row = torch.tensor([[[s - 1 for s in SIZES]]])
    state = None
    c0 = time.thread_time()
    t0 = time.perf_counter()
    for _ in range(frames):
        h, state = m.lstm(m.embed(row), state)
        chosen = torch.zeros(1, 1, 4, dtype=torch.long)
        for v, head in enumerate(m.heads):
            logits = head(h, chosen)[0, 0, :NOTES[v]]
            chosen[0, 0, v] = torch.multinomial(F.softmax(logits, -1), 1)[0]
        row = chosen
    return frames / (time.perf_counter() - t0), frames / max(time.thread_time() - c0, 1e-9)


def ours(threads, hidden, batch, seq, steps):
    # LEARN_BENCH names another build (e.g. an older commit's) to compare.
    exe = os.environ.get("LEARN_BENCH") or os.path.join(
        os.path.dirname(__file__), "..", "target", "release", "examples", "learn_bench")
    if not os.path.exists(exe):
        return None
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([exe, str(hidden), str(batch), str(seq), str(steps)], env=env,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    a = [int(v) for v in sys.argv[1:]]
    hidden, batch, seq, steps = (a + [128, 32, 64, 10][len(a):])[:4]
    print(f"full LSTM, hidden {hidden}, 2 layers, batch {batch} x {seq} frames, {steps} steps")
    # Per CPU-second figures count the CPU time of every thread of the process: on a shared
    # machine they show what idle cores would give (at 1 thread; at 2 they measure efficiency).
    print("| implementation | threads | train frames/s | train frames/CPU-s | sample frames/s (wall) "
          "| sample frames/CPU-s |")
    print("|---|---:|---:|---:|---:|---:|")
    for threads in (1, 2):
        tf, tc = train_fps(threads, hidden, batch, seq, steps)
        sw, sc = sample_fps(threads, hidden)
        print(f"| PyTorch {torch.__version__} | {threads} | {tf:.0f} | {tc:.0f} | {sw:.0f} | {sc:.0f} |",
              flush=True)
        o = ours(threads, hidden, batch, seq, steps)
        if o is None:
            print("| nesmm | - | build target/release/examples/learn_bench first | | | |")
        else:
            print(f"| nesmm | {threads} | {o['train_frames_per_s']} | {o.get('train_frames_per_cpu_s', '-')} | "
                  f"{o['sample_frames_per_s']} | {o['sample_frames_per_cpu_s']} |", flush=True)


if __name__ == "__main__":
    main()
