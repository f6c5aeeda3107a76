"""`train(config, hooks)`: the one training loop. Experiments are hooks (grokkit.hooks), never copies.

Each step, in this fixed order (papers-spec §1.3):
  1. sample   512 train pairs with replacement (drawn per evaluation interval on the device)
  2. forward
  3. loss     sum over tasks of the mean cross-entropy
  4. backward
  5. clip     global gradient norm to `grad_clip`
  6. on_grad hooks (gradient projection, deletion ...)
  7. AdamW step (decoupled weight decay on every parameter)
  8. on_step hooks (snapshots, checkpoints, kicks, inline defects ...)
  9. evaluate every `eval_every` steps: all p² pairs in one pass -> train and test accuracy/loss
 10. stop once every task's test accuracy >= stop_threshold on stop_patience consecutive evaluations
     (then train `steps_after_stop` more steps).
"""
from __future__ import annotations

import os
import platform
import random
import shutil
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from grokkit.config import Config
from grokkit.data import Dataset, block_length, dataset_for
from grokkit.hooks import Hook, builtin_hooks, hooks_key
from grokkit.model import build_model
from grokkit.runs import Run, git_commit, version

METRICS = ("train_acc", "test_acc", "train_loss", "test_loss")


def resolve_device(name: str = "auto") -> torch.device:
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def autocast(config: Config, device: torch.device):
    if config.precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def decays(name: str, config: Config) -> bool:
    """Whether AdamW's weight decay applies to parameter `name` (all of them, unless decay_exclude)."""
    return not any(fragment in name for fragment in config.decay_exclude)


def make_optimizer(model, config: Config, capturable: bool = False) -> torch.optim.AdamW:
    """AdamW on every parameter (the papers decay embeddings, biases and LayerNorm gains too), except
    the parameters named in config.decay_exclude, which get weight decay 0."""
    fused = next(model.parameters()).device.type in ("cpu", "cuda")
    named = list(model.named_parameters())
    groups = [{"params": [p for n, p in named if decays(n, config)], "weight_decay": config.weight_decay},
              {"params": [p for n, p in named if not decays(n, config)], "weight_decay": 0.0}]
    return torch.optim.AdamW([g for g in groups if g["params"]], lr=config.lr, betas=config.betas, eps=config.eps,
                             fused=fused, foreach=None if fused else True, capturable=capturable)


def task_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Sum over tasks of the mean cross-entropy. logits (T, B, C), labels (B, T)."""
    T, B, C = logits.shape
    if logits.dtype in (torch.float16, torch.bfloat16):
        logits = logits.float()
    return F.cross_entropy(logits.reshape(T * B, C), labels.T.reshape(-1)) * T


@torch.no_grad()
def evaluate(model, data: Dataset, config: Config | None = None, chunk: int = 16384) -> torch.Tensor:
    """One pass over all pairs -> (4, n_tasks) device tensor: train_acc, test_acc, train_loss, test_loss.

    No host synchronisation: the caller decides when to read the numbers.
    """
    was_training = model.training
    model.eval()
    device = data.inputs.device
    ctx = autocast(config, device) if config is not None else nullcontext()
    correct, losses = [], []
    with ctx:
        for i in range(0, len(data.inputs), chunk):
            logits = model(data.inputs[i:i + chunk]).float()  # (T, n, C)
            y = data.labels[i:i + chunk].T  # (T, n)
            correct.append((logits.argmax(-1) == y).float())
            losses.append(F.cross_entropy(logits.permute(1, 2, 0), y.T, reduction="none").T)
    correct, losses = torch.cat(correct, 1), torch.cat(losses, 1)  # (T, N)
    model.train(was_training)
    tr, te = data.train_idx, data.test_idx
    return torch.stack([correct[:, tr].mean(1), correct[:, te].mean(1),
                        losses[:, tr].mean(1), losses[:, te].mean(1)])


class Context:
    """What a hook sees. Attributes: config, model, optimizer, data, device, step, batch, loss,
    last_eval (dict of per-task lists), and the recording methods."""

    def __init__(self, config, model, optimizer, data, device):
        self.config, self.model, self.optimizer, self.data, self.device = config, model, optimizer, data, device
        self.step = 0
        self.batch = None  # pair indices of the current batch
        self.loss = None
        self.last_eval = None
        self.records: dict = {}
        self.tensors: dict = {}

    def record(self, name: str, value) -> None:
        r = self.records.setdefault(name, {"step": [], "value": []})
        r["step"].append(self.step)
        r["value"].append(value.tolist() if isinstance(value, torch.Tensor) else value)

    def record_tensor(self, name: str, value: torch.Tensor) -> None:
        r = self.tensors.setdefault(name, {"step": [], "value": []})
        r["step"].append(self.step)
        r["value"].append(value.detach().cpu())

    def params(self) -> list[torch.Tensor]:
        return list(self.model.parameters())

    def grads(self) -> list[torch.Tensor]:
        return [p.grad for p in self.model.parameters()]

    def batch_loss(self, params: dict | None = None, idx: torch.Tensor | None = None) -> torch.Tensor:
        """Training loss on pairs `idx` at parameters `params` (name -> tensor; default: current)."""
        idx = self.batch if idx is None else idx
        x, y = self.data.inputs[idx], self.data.labels[idx]
        if params is None:
            return task_loss(self.model(x), y)
        return task_loss(torch.func.functional_call(self.model, params, (x,)), y)


def train(config: Config, hooks=(), *, progress: bool = True, resume_dir=None,
          resume_every_s: float = 60.0) -> Run:
    """Train one run. `resume_dir`: where to keep resume state (and resume from, if present)."""
    device = resolve_device(config.device)
    if device.type == "cpu":
        torch.set_flush_denormal(True)  # denormals in AdamW's state slow long CPU runs ~1.5x
    seed_everything(config.seed)
    data = dataset_for(config).to(device)
    model = build_model(config).to(device)
    graphs = device.type == "cuda" and config.cuda_graph and not config.compile
    opt = make_optimizer(model, config, capturable=graphs)
    gen = torch.Generator(device).manual_seed(config.seed)  # the batch stream's own generator
    hooks = builtin_hooks(config) + list(hooks)
    ctx = Context(config, model, opt, data, device)
    history = {"step": [], **{m: [] for m in METRICS}}
    streak, stop_at, wall = 0, None, 0.0
    step_fn = _compiled_step(model, config) if config.compile else None

    key = config.key(hooks_key(hooks))
    state = _load_resume(resume_dir, key)
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        ctx.step, history, streak, stop_at, wall = (state["step"], state["history"], state["streak"],
                                                    state["stop_at"], state["wall"])
        ctx.records, ctx.tensors = state["records"], state["tensors"]
        ctx._flushed = {name: len(r["step"]) for name, r in ctx.tensors.items()}
        ctx._n_chunks = state["n_chunks"]
        for h, s in zip(hooks, state["hooks"]):
            h.load_state_dict(s)
    else:
        for h in hooks:
            h.on_start(ctx)
        _evaluate_into(ctx, history, hooks)

    if graphs:  # after any resume: the graphs capture the tensors as they are now
        from grokkit.cuda_graph import GraphedStep
        has_grad_hooks = any(type(h).on_grad is not Hook.on_grad for h in hooks)
        graphed = GraphedStep(model, opt, config, data, lambda x, y: _forward_loss(model, config, x, y),
                              split=has_grad_hooks)
    bar = _progress_bar(config, progress, ctx.step)
    t0, last_save = time.perf_counter(), time.perf_counter()
    block, block_len = None, block_length(config.eval_every)
    model.train()
    while ctx.step < config.max_steps and (stop_at is None or ctx.step < stop_at):
        # 1. sample: one block of batches at a time (an evaluation interval, at most 1000 steps)
        k = ctx.step % block_len
        if block is None or k == 0:
            block = data.sample_block(block_len, config.batch_size, gen)
        ctx.batch = block[k]
        if graphs:  # 2–7 replayed as CUDA graphs; the gradient hooks run between two of them
            ctx.loss = graphed(ctx.batch, lambda: [h.on_grad(ctx) for h in hooks])
        else:
            x, y = data.inputs[ctx.batch], data.labels[ctx.batch]
            if step_fn is not None:  # 2–5 fused by torch.compile
                ctx.loss = step_fn(x, y)
            else:
                with autocast(config, device):
                    logits = model(x)  # 2. forward
                ctx.loss = task_loss(logits, y)  # 3. loss
                opt.zero_grad(set_to_none=True)
                ctx.loss.backward()  # 4. backward
                if config.grad_clip is not None:  # 5. clip
                    torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip, foreach=True)
            for h in hooks:  # 6. gradient hooks
                h.on_grad(ctx)
            opt.step()  # 7. optimiser step
        ctx.step += 1
        for h in hooks:  # 8. step hooks
            h.on_step(ctx)
        if ctx.step % config.eval_every == 0:  # 9. evaluate
            acc = _evaluate_into(ctx, history, hooks)
            # 10. stopping (one host sync per evaluation)
            if stop_at is None and config.stop_threshold is not None:
                streak = streak + 1 if min(acc) >= config.stop_threshold else 0
                if streak >= config.stop_patience:
                    stop_at = ctx.step + config.steps_after_stop
            if bar is not None:
                bar.update(config.eval_every)
                bar.set_postfix_str(_postfix(history), refresh=False)
            if resume_dir is not None and time.perf_counter() - last_save > resume_every_s:
                _save_resume(resume_dir, key, model, opt, gen, ctx, history, streak, stop_at,
                             wall + time.perf_counter() - t0, hooks)
                last_save = time.perf_counter()
    if bar is not None:
        bar.close()
    wall += time.perf_counter() - t0
    info = {"key": key, "hooks": [h.key for h in hooks if h.key],
            "grokkit_version": version(), "torch_version": torch.__version__, "git_commit": git_commit(),
            "device": _device_name(device), "wall_time_s": round(wall, 3), "final_step": ctx.step,
            "stopped_early": stop_at is not None}
    tensors = {n: {"step": torch.tensor(r["step"]), "value": torch.stack(r["value"])}
               for n, r in ctx.tensors.items()}
    weights = {n: p.detach().cpu().clone() for n, p in model.named_parameters()}
    return Run(config, history, ctx.records, tensors, (data.train_idx.cpu(), data.test_idx.cpu()), weights, info)


def _evaluate_into(ctx, history, hooks) -> list[float]:
    m = evaluate(ctx.model, ctx.data, ctx.config).cpu()  # the one sync per evaluation
    history["step"].append(ctx.step)
    for name, row in zip(METRICS, m.tolist()):
        history[name].append(row)
    ctx.last_eval = {name: history[name][-1] for name in METRICS}
    for h in hooks:
        h.on_eval(ctx)
    return history["test_acc"][-1]


def _forward_loss(model, config, x, y):
    with autocast(config, x.device):
        logits = model(x)
    return task_loss(logits, y)


def _compiled_step(model, config):
    """Forward, loss, backward and clip as one torch.compile'd function (optional)."""
    def step(x, y):
        loss = _forward_loss(model, config, x, y)
        for p in model.parameters():
            p.grad = None
        loss.backward()
        if config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip, foreach=True)
        return loss.detach()
    return torch.compile(step)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{device.type} ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def _postfix(history) -> str:
    tr, te, loss = history["train_acc"][-1], history["test_acc"][-1], history["train_loss"][-1]
    f = lambda v: "/".join(f"{x:.2f}" for x in v)
    return f"loss {sum(loss):.3f} train {f(tr)} test {f(te)}"


def _progress_bar(config, progress, start):
    if not progress:
        return None
    from tqdm.auto import tqdm
    return tqdm(total=config.max_steps, initial=start, desc=f"{'+'.join(config.ops)} s{config.seed}",
                unit="step", leave=False, mininterval=0.5)


# --- resume state ----------------------------------------------------------------------------
# A resume directory holds state.pt (model, optimiser, generator, counters, records: tensors and
# plain types only, read back with weights_only=True) and the recorded tensor series in append-only
# chunk files; state.pt is replaced atomically and names how many chunks it covers.

def _save_resume(path, key, model, opt, gen, ctx, history, streak, stop_at, wall, hooks):
    from safetensors.torch import save_file
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    flushed, n_chunks = getattr(ctx, "_flushed", {}), getattr(ctx, "_n_chunks", 0)
    chunk = {}
    for name, r in ctx.tensors.items():
        start = flushed.get(name, 0)
        if start < len(r["step"]):
            chunk[f"{name}#step"] = torch.tensor(r["step"][start:])
            chunk[f"{name}#value"] = torch.stack(r["value"][start:])
    if chunk:
        tmp = path / f".chunk-{n_chunks:05d}.tmp"
        save_file(chunk, tmp)
        os.replace(tmp, path / f"chunk-{n_chunks:05d}.safetensors")
        n_chunks += 1
    ctx._flushed = {name: len(r["step"]) for name, r in ctx.tensors.items()}
    ctx._n_chunks = n_chunks
    state = {"key": key, "model": model.state_dict(), "optimizer": opt.state_dict(),
             "generator": gen.get_state(), "step": ctx.step, "history": history, "streak": streak,
             "stop_at": stop_at, "wall": wall, "records": ctx.records,
             "hooks": [h.state_dict() for h in hooks], "n_chunks": n_chunks}
    tmp = path / ".state.pt.tmp"
    torch.save(state, tmp)
    os.replace(tmp, path / "state.pt")  # the commit point: chunks beyond n_chunks are ignored


def _load_resume(path, key):
    """The saved state in `path`, or None (a stale or unreadable directory is cleared)."""
    if path is None or not Path(path).exists():
        return None
    from safetensors.torch import load_file
    path = Path(path)
    try:
        state = torch.load(path / "state.pt", map_location="cpu", weights_only=True)
        if state["key"] != key:
            raise ValueError(f"it belongs to run {state['key']}, not {key}")
        tensors = {}
        for i in range(state["n_chunks"]):
            for k, v in load_file(path / f"chunk-{i:05d}.safetensors").items():
                name, part = k.rsplit("#", 1)
                r = tensors.setdefault(name, {"step": [], "value": []})
                r[part].extend(v.tolist() if part == "step" else list(v))
    except Exception as e:
        if (path / "state.pt").exists():
            print(f"grokkit: discarding unusable resume state in {path} ({e})")
        shutil.rmtree(path, ignore_errors=True)
        return None
    for extra in path.glob("chunk-*.safetensors"):  # written after the last state.pt: not committed
        if int(extra.stem.split("-")[1]) >= state["n_chunks"]:
            extra.unlink()
    state["tensors"] = tensors
    return state
