"""Many independent runs in one process: stacked parameters, one batched step (pays on a GPU).

Each member is an ordinary run — its own seed (initialisation, split, batch stream), learning rate,
weight decay, betas, eps, gradient clip, train fraction, step budget and stopping rule — trained with
the same step order as `grokkit.train`. Parameters carry a leading member dimension; the model is
the very same `Transformer`, evaluated per member with `torch.func.functional_call` under `vmap`, so
the function computed cannot drift from the single-run model. Members that have stopped are removed
from the stack (they stop costing compute), and each finished member becomes a `Run` that loads and
analyses exactly like one trained alone.

Differences from a solo run are rounding only: batched matmuls accumulate in another order and AdamW
is written out (`adamw_`), so trajectories agree to float tolerance for a while and then drift apart
the way two devices would (tests/test_ensemble.py measures the tolerance).
"""
from __future__ import annotations

import copy
import dataclasses
import time

import torch
from torch.func import functional_call, grad_and_value, stack_module_state, vmap

from grokkit.config import Config
from grokkit.data import block_length, dataset_for
from grokkit.hooks import Hook, hooks_key
from grokkit.model import build_model
from grokkit.runs import Run, git_commit, version
from grokkit.train import (METRICS, Context, _device_name, autocast, resolve_device, seed_everything,
                           task_loss)

# Fields members may differ in; everything else must agree to share one stacked model.
MEMBER_FIELDS = ("ops", "seed", "data_seed", "train_frac", "lr", "weight_decay", "betas", "eps", "grad_clip",
                 "max_steps", "stop_threshold", "stop_patience", "steps_after_stop",
                 "snapshot_every", "checkpoint_every", "device", "compile")


def stack_signature(cfg: Config) -> tuple:
    """Configs with equal signatures can be trained in one ensemble (same model shape and pair set;
    the operations may differ, one label set per member)."""
    from grokkit.data import OPERATIONS
    same_pairs = any(OPERATIONS[o].exclude_zero for o in cfg.ops)
    return tuple((f.name, getattr(cfg, f.name)) for f in dataclasses.fields(cfg) if f.name not in MEMBER_FIELDS) + (
        ("n_tasks", cfg.n_tasks), ("exclude_zero", same_pairs))


def adamw_(params, grads, exp_avg, exp_avg_sq, step, lr, wd, beta1, beta2, eps, no_decay=()):
    """Decoupled AdamW, written out, with per-member hyperparameters (tensors of shape (N,)).

    Same formula and order as torch.optim.AdamW (foreach): theta *= 1 - lr*wd; m, v updates;
    theta -= lr/(1 - beta1^t) * m / (sqrt(v)/sqrt(1 - beta2^t) + eps).
    """
    for name, p in params.items():
        g, m, v = grads[name], exp_avg[name], exp_avg_sq[name]
        shape = (-1,) + (1,) * (p.dim() - 1)
        b1, b2 = beta1.view(shape), beta2.view(shape)
        if name not in no_decay:
            p.mul_(1 - (lr * wd).view(shape))
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g * (1 - b2))
        step_size = (lr / (1 - beta1 ** step)).view(shape)
        denom = (v.sqrt() / (1 - beta2 ** step).sqrt().view(shape)).add_(eps.view(shape))
        p.addcdiv_(m * step_size, denom, value=-1.0)


def clip_(grads: dict, max_norm: torch.Tensor) -> torch.Tensor:
    """Per-member global gradient-norm clip (max_norm (N,), inf = off); returns the norms."""
    norms = torch.stack([g.flatten(1).pow(2).sum(1) for g in grads.values()]).sum(0).sqrt()
    coef = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    for g in grads.values():
        g.mul_(coef.view((-1,) + (1,) * (g.dim() - 1)))
    return norms


class Ensemble:
    """Train `members` = [(config, hooks), ...] together. All configs must share a stack signature."""

    def __init__(self, members, device=None):
        configs = [c for c, _ in members]
        if len({stack_signature(c) for c in configs}) != 1:
            raise ValueError("ensemble members must agree on every field except " + ", ".join(MEMBER_FIELDS))
        self.configs = configs
        self.user_hooks = [list(h) for _, h in members]
        self.device = resolve_device(device or configs[0].device)
        d = self.device
        if d.type == "cpu":
            torch.set_flush_denormal(True)  # as in grokkit.train
        models = []
        for c in configs:
            seed_everything(c.seed)  # the same initial weights as a solo run of this config
            models.append(build_model(c))
        self.template = copy.deepcopy(models[0]).to("meta")
        from grokkit.train import decays
        self.no_decay = {n for n, _ in models[0].named_parameters() if not decays(n, configs[0])}
        params, _ = stack_module_state(models)
        self.params = {k: v.detach().to(d) for k, v in params.items()}
        self.exp_avg = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.exp_avg_sq = {k: torch.zeros_like(v) for k, v in self.params.items()}
        self.t = torch.zeros(1, device=d)  # AdamW's step count, on the device (graph-safe)
        self.datasets = [dataset_for(c).to(d) for c in configs]
        self.inputs = self.datasets[0].inputs  # one pair set for all members
        self.labels = torch.stack([ds.labels for ds in self.datasets])  # (N, n_pairs, n_tasks): per member
        self.gens = [torch.Generator(d).manual_seed(c.seed) for c in configs]
        f = lambda name, default=None: torch.tensor(
            [default if getattr(c, name) is None else getattr(c, name) for c in configs],
            dtype=torch.float32, device=d)
        # per-member hyperparameters of the ACTIVE members, as device tensors (sliced on retirement,
        # never indexed with Python lists inside the step, which a CUDA graph could not capture)
        self.hp = {"lr": f("lr"), "wd": f("weight_decay"), "eps": f("eps"), "clip": f("grad_clip", float("inf")),
                   "beta1": torch.tensor([c.betas[0] for c in configs], device=d),
                   "beta2": torch.tensor([c.betas[1] for c in configs], device=d)}
        self.train_masks = torch.stack([ds.train_mask for ds in self.datasets])  # (N, n_pairs)
        self.active = list(range(len(configs)))  # member ids still training, in stack order
        self.grads = None
        # what a hook sees: grokkit.train's Context around a model made of views into the stack
        self.ctxs = [Context(c, self.member_model(i), None, ds, d)
                     for i, (c, ds) in enumerate(zip(configs, self.datasets))]

    # --- member views for hooks ---------------------------------------------------------------
    def member_model(self, i):
        """A Transformer whose parameters are views of member i's slice of the stack."""
        m = copy.deepcopy(self.template).to_empty(device=self.device)
        self._seat(m, i)
        return m

    def _seat(self, model, i):
        row = self.active.index(i)
        for name, p in model.named_parameters():
            p.data = self.params[name][row]
            if self.grads is not None:
                p.grad = self.grads[name][row]

    def _reseat_all(self):
        for i in self.active:
            self._seat(self.ctxs[i].model, i)

    # --- the step -----------------------------------------------------------------------------
    def _loss(self, params, x, y):
        with autocast(self.configs[0], self.device):
            logits = functional_call(self.template, params, (x,))
        return task_loss(logits, y)

    @torch.no_grad()
    def evaluate(self, chunk_members: int | None = None) -> torch.Tensor:
        """(N_active, 4, n_tasks): train_acc, test_acc, train_loss, test_loss for every active member."""
        cfg = self.configs[0]
        if chunk_members is None:  # GPU: keep a chunk's activations near 4 GB; CPU: one member at a time
            per_member = len(self.inputs) * cfg.seq_len * max(cfg.d_ff, 3 * cfg.d_model) * 4 * 4
            chunk_members = max(1, int(4e9 // per_member)) if self.device.type == "cuda" else 1
        out = []
        for s in range(0, len(self.active), chunk_members):
            params = {k: v[s:s + chunk_members] for k, v in self.params.items()}
            with autocast(cfg, self.device):
                logits = vmap(lambda p: functional_call(self.template, p, (self.inputs,)))(params)
            logits = logits.float()  # (n, T, P, C)
            y = self.labels[s:s + chunk_members].transpose(1, 2)  # (n, T, P)
            correct = (logits.argmax(-1) == y).float()  # (n, T, P)
            losses = torch.nn.functional.cross_entropy(logits.permute(0, 3, 1, 2), y, reduction="none")
            mask = self.train_masks[self.active[s:s + chunk_members]].unsqueeze(1).float()  # (n, 1, P)
            tr = lambda t: (t * mask).sum(-1) / mask.sum(-1)
            te = lambda t: (t * (1 - mask)).sum(-1) / (1 - mask).sum(-1)
            out.append(torch.stack([tr(correct), te(correct), tr(losses), te(losses)], 1))
        return torch.cat(out)

    def run(self, progress=True, on_progress=None) -> list[Run]:
        cfg0 = self.configs[0]
        E, B, d = cfg0.eval_every, cfg0.batch_size, self.device
        self.hooks = self.user_hooks
        has_grad_hooks = any(type(h).on_grad is not Hook.on_grad for hs in self.hooks for h in hs)
        histories = [{"step": [], **{m: [] for m in METRICS}} for _ in self.configs]
        streak, stop_at = [0] * len(self.configs), [None] * len(self.configs)
        finished: dict[int, Run] = {}
        t0 = time.perf_counter()
        self._grad_fn = vmap(grad_and_value(self._loss), in_dims=(0, 0, 0))
        self._graphs = None
        use_graphs = self.device.type == "cuda" and cfg0.cuda_graph
        self._capture(0)
        for i in self.active:
            for h in self.hooks[i]:
                h.on_start(self.ctxs[i])
        self._eval_into(histories, streak, stop_at, 0)
        bar = None
        if progress:
            from tqdm.auto import tqdm
            bar = tqdm(total=sum(c.max_steps for c in self.configs), unit="step", leave=False,
                       desc=f"ensemble of {len(self.configs)}", mininterval=0.5)
        step, blocks = 0, None
        any_hooks = any(self.hooks)
        budget = min(c.max_steps for c in self.configs)  # the next step at which a budget runs out
        block_len = block_length(E)
        while self.active:
            k = step % block_len
            if k == 0:  # 1. sample: each member draws from its own generator and split
                blocks = torch.stack([self.datasets[i].sample_block(block_len, B, self.gens[i])
                                      for i in self.active])
            idx = blocks[:, k]  # (N, B)
            if use_graphs:  # 2–7 replayed as CUDA graphs (re-captured when the stack shrinks)
                if self._graphs is None:
                    self._graphs = self._capture_graphs(has_grad_hooks)
                self.idx.copy_(idx)
                self._graphs[0].replay()
                if has_grad_hooks:
                    self._grad_hooks(step, idx)
                    self._graphs[1].replay()
            else:
                self.idx = idx
                self._forward_backward()  # 2–5. forward, loss, backward, clip (per member)
                if has_grad_hooks:  # 6. gradient hooks see member views of the stacked gradients
                    self._grad_hooks(step, idx)
                self._adamw()  # 7. AdamW, per-member hyperparameters
            step += 1
            self._capture(step)  # 8. trajectory capture (batched), then step hooks
            if any_hooks:
                for row, i in enumerate(self.active):
                    ctx = self.ctxs[i]
                    ctx.step, ctx.batch = step, idx[row]
                    for h in self.hooks[i]:
                        h.on_step(ctx)
            done = set()
            if step % E == 0:  # 9–10. evaluate, stop
                done = self._eval_into(histories, streak, stop_at, step)
                if bar is not None:
                    bar.update(E * len(self.active))
                if on_progress is not None:
                    on_progress(E * len(self.active))
            if step >= budget:
                done |= {i for i in self.active if step >= self.configs[i].max_steps}
            if done:  # finished members become Runs and leave the stack
                wall = time.perf_counter() - t0
                if bar is not None:
                    bar.total -= sum(self.configs[i].max_steps - step for i in done)
                for i in done:
                    finished[i] = self._to_run(i, histories[i], step, wall, stop_at[i] is not None)
                keep = self._retire(done)
                blocks = blocks[keep] if keep is not None and step % block_len else None
                budget = min((self.configs[i].max_steps for i in self.active), default=0)
        if bar is not None:
            bar.close()
        return [finished[i] for i in range(len(self.configs))]

    @torch.no_grad()
    def _capture(self, step):
        """Attention snapshots and theta checkpoints of the members due at `step`, one copy each.

        Same names and layout as grokkit.hooks.AttentionSnapshots / ParameterCheckpoints."""
        due = lambda every: [(row, i) for row, i in enumerate(self.active)
                             if every(self.configs[i]) and step % every(self.configs[i]) == 0]
        snap = due(lambda c: c.snapshot_every)
        if snap:
            rows = torch.tensor([r for r, _ in snap], device=self.device)
            n_layers = self.configs[0].n_layers
            for layer in range(n_layers):
                qkv = self.params[f"blocks.{layer}.attn.in_proj_weight"].index_select(0, rows).cpu()
                wo = self.params[f"blocks.{layer}.attn.out_proj.weight"].index_select(0, rows).cpu()
                for j, (_, i) in enumerate(snap):
                    self.ctxs[i].step = step
                    for name, w in zip(("W_Q", "W_K", "W_V"), qkv[j].chunk(3)):
                        self.ctxs[i].record_tensor(f"attn/L{layer}.{name}", w.clone())
                    self.ctxs[i].record_tensor(f"attn/L{layer}.W_O", wo[j].clone())
        ckpt = due(lambda c: c.checkpoint_every)
        if ckpt:
            rows = torch.tensor([r for r, _ in ckpt], device=self.device)
            theta = torch.cat([p.index_select(0, rows).flatten(1) for p in self.params.values()], 1).float().cpu()
            for j, (_, i) in enumerate(ckpt):
                self.ctxs[i].step = step
                self.ctxs[i].record_tensor("theta", theta[j].clone())

    def _forward_backward(self):
        rows = torch.arange(len(self.idx), device=self.device)[:, None]
        x, y = self.inputs[self.idx], self.labels[rows, self.idx]
        self.grads, self.loss = self._grad_fn(self.params, x, y)
        clip_(self.grads, self.hp["clip"])

    def _adamw(self):
        h = self.hp
        self.t += 1
        adamw_(self.params, self.grads, self.exp_avg, self.exp_avg_sq, self.t, h["lr"], h["wd"], h["beta1"],
               h["beta2"], h["eps"], self.no_decay)

    def _grad_hooks(self, step, idx):
        self._reseat_all()
        for row, i in enumerate(self.active):
            ctx = self.ctxs[i]
            ctx.step, ctx.batch, ctx.loss = step, idx[row], self.loss[row]
            for h in self.hooks[i]:
                h.on_grad(ctx)

    def _capture_graphs(self, split: bool):
        """Warm up on a side stream, undo the warm-up in place, capture the step (see cuda_graph.py)."""
        state = [self.t, *self.params.values(), *self.exp_avg.values(), *self.exp_avg_sq.values()]
        saved = [t.clone() for t in state]
        self.idx = torch.zeros(len(self.active), self.configs[0].batch_size, dtype=torch.long, device=self.device)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(2):
                self._forward_backward()
                self._adamw()
        torch.cuda.current_stream().wait_stream(side)
        with torch.no_grad():
            for t, v in zip(state, saved):
                t.copy_(v)
        graphs = [torch.cuda.CUDAGraph()]
        with torch.cuda.graph(graphs[0]):
            self._forward_backward()
            if not split:
                self._adamw()
        if split:
            graphs.append(torch.cuda.CUDAGraph())
            with torch.cuda.graph(graphs[1]):
                self._adamw()
        return graphs

    def _eval_into(self, histories, streak, stop_at, step) -> set:
        m = self.evaluate().cpu()  # one host sync per evaluation for the whole ensemble
        done = set()
        for row, i in enumerate(self.active):
            c, ctx, h = self.configs[i], self.ctxs[i], histories[i]
            ctx.step = step
            h["step"].append(ctx.step)
            for name, values in zip(METRICS, m[row].tolist()):
                h[name].append(values)
            ctx.last_eval = {name: h[name][-1] for name in METRICS}
            for hook in self.hooks[i]:
                hook.on_eval(ctx)
            if stop_at[i] is None and c.stop_threshold is not None:
                streak[i] = streak[i] + 1 if min(h["test_acc"][-1]) >= c.stop_threshold else 0
                if streak[i] >= c.stop_patience:
                    stop_at[i] = ctx.step + c.steps_after_stop
            if stop_at[i] is not None and ctx.step >= stop_at[i]:
                done.add(i)
        return done

    def _retire(self, done):
        """Drop finished members from every stacked tensor; returns the kept rows (a tensor)."""
        keep = [row for row, i in enumerate(self.active) if i not in done]
        self.active = [self.active[row] for row in keep]
        if not keep:
            return None
        rows = torch.tensor(keep, device=self.device)
        for store in (self.params, self.exp_avg, self.exp_avg_sq):
            for k in store:
                store[k] = store[k].index_select(0, rows)
        self.labels = self.labels.index_select(0, rows)
        self.hp = {k: v.index_select(0, rows) for k, v in self.hp.items()}
        self.grads = None
        self._graphs = None
        self._reseat_all()
        return rows

    def _to_run(self, i, history, step, wall, stopped) -> Run:
        row = self.active.index(i)
        c, ctx = self.configs[i], self.ctxs[i]
        weights = {k: v[row].detach().cpu().clone() for k, v in self.params.items()}
        tensors = {n: {"step": torch.tensor(r["step"]), "value": torch.stack(r["value"])}
                   for n, r in ctx.tensors.items()}
        info = {"key": c.key(hooks_key(self.user_hooks[i])), "hooks": [h.key for h in self.user_hooks[i] if h.key],
                "grokkit_version": version(), "torch_version": torch.__version__, "git_commit": git_commit(),
                "device": _device_name(self.device), "wall_time_s": round(wall, 3), "final_step": step,
                "stopped_early": stopped, "engine": f"ensemble of {len(self.configs)}"}
        ds = self.datasets[i]
        return Run(c, history, ctx.records, tensors, (ds.train_idx.cpu(), ds.test_idx.cpu()), weights, info)


def train_ensemble(members, *, device=None, progress=True) -> list[Run]:
    """Train [(config, hooks), ...] (or plain configs) as one stacked ensemble; one Run per member."""
    members = [(m, ()) if isinstance(m, Config) else m for m in members]
    return Ensemble(members, device).run(progress)
