"""Many independent runs in one process: stacked parameters, one batched step (pays on a GPU).

Each member is an ordinary run — its own seed (initialisation, split, batch stream), learning rate,
weight decay, betas, eps, gradient clip, train fraction, step budget and stopping rule — trained with
the same step order as `grokkit.training.train`. Parameters carry a leading member dimension; the model is
the very same `Transformer`, evaluated per member with `torch.func.functional_call` under `vmap`, so
the function computed cannot drift from the single-run model. Members that have stopped are removed
from the stack (they stop costing compute), and each finished member becomes a `Run` that loads and
analyses exactly like one trained alone.

Differences from a solo run are rounding only: batched matmuls accumulate in another order and AdamW
is written out (grokkit.engines.stacked; fused over one (N, P) buffer per stack with fused_step), so trajectories agree
to float tolerance for a while, then drift apart as two devices' would (tests/test_ensemble.py).

With `resume_dir` an ensemble keeps resume state as a solo run does (grokkit.engines.ensemble_resume: saved at
evaluation steps, which start sampling blocks), and an interrupted one continues exactly where it was.
"""

from __future__ import annotations

import copy
import time

import torch
from torch.func import functional_call, stack_module_state

from grokkit.bars import RunBar
from grokkit.config import Config
from grokkit.data import block_length, dataset_for
from grokkit.engines.ensemble_resume import ResumeDir
from grokkit.engines.stacked import (
    MEMBER_FIELDS,
    capture_trajectories,
    evaluate_stack,
    member_hyperparameters,
    pack_,
    stack_signature,
    step_functions,
)
from grokkit.hooks.base import Hook, hooks_key
from grokkit.hooks.context import Context
from grokkit.model import build_model
from grokkit.objective import METRICS, autocast, task_loss, tf32
from grokkit.store.provenance import run_info
from grokkit.store.runs import Run
from grokkit.training.device import one_cpu_thread, resolve_device, seed_everything
from grokkit.training.steps import capture_graphs, decays
from grokkit.training.stopping import StopRule


class Ensemble:
    """Train `members` = [(config, hooks), ...] together. All configs must share a stack signature."""

    def __init__(self, members, device=None, fused=None):
        configs = [c for c, _ in members]
        if len({stack_signature(c) for c in configs}) != 1:
            raise ValueError("ensemble members must agree on every field except " + ", ".join(MEMBER_FIELDS))
        self.configs = configs
        self.user_hooks = [list(h) for _, h in members]
        self.keys = [c.key(hooks_key(h)) for c, h in zip(configs, self.user_hooks)]  # cache keys
        self.device = d = resolve_device(device or configs[0].device)
        if d.type == "cpu":
            torch.set_flush_denormal(True)  # as in grokkit.training.train
        models = []
        for c in configs:
            seed_everything(c.seed)  # the same initial weights as a solo run of this config
            models.append(build_model(c))
        self.template = copy.deepcopy(models[0]).to("meta")
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
        self.hp = member_hyperparameters(configs, d)  # of the ACTIVE members (sliced on retirement)
        self.train_masks = torch.stack([ds.train_mask for ds in self.datasets])  # (N, n_pairs)
        self.active = list(range(len(configs)))  # member ids still training, in stack order
        self.grads = None
        # what a hook sees: grokkit.training.train's Context around a model made of views into the stack
        self.ctxs = [
            Context(c, self.member_model(i), None, ds, d) for i, (c, ds) in enumerate(zip(configs, self.datasets))
        ]
        # fused: clip and AdamW on packed (N, P) stacks, a few kernels a step (engines.stacked; config.fused_step)
        self.fused = (configs[0].fused_step if fused is None else fused) and not configs[0].compile
        self._grad_fn, self._clip_fn, self._adamw_fn = step_functions(self._loss, configs[0].compile, self.fused)
        self._graphs = None

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
        masks, cfg = self.train_masks[self.active], self.configs[0]
        return evaluate_stack(
            self.template, self.params, self.inputs, self.labels, masks, cfg, self.device, chunk_members
        )

    def run(
        self, progress=True, on_progress=None, resume_dir=None, resume_every_s=60.0, on_finished=None, deadline=None
    ) -> list[Run | None]:
        """Train every member to its end; one Run per member, in member order. on_finished(i, run): called as
        member i finishes. resume_dir: keep resume state there and resume from it (every `resume_every_s`, at an
        evaluation; grokkit.engines.ensemble_resume): a resumed ensemble gives the same Runs, bit for bit. deadline (a
        time.perf_counter() value): stop at the first evaluation past it, state saved; unfinished members: None.
        On a CPU it trains on one torch thread, as a solo run does (grokkit.training.device.one_cpu_thread)."""
        with one_cpu_thread(self.device):
            return self._run(progress, on_progress, resume_dir, resume_every_s, on_finished, deadline)

    def _run(self, progress, on_progress, resume_dir, resume_every_s, on_finished, deadline) -> list[Run | None]:
        cfg0 = self.configs[0]
        E, B = cfg0.eval_every, cfg0.batch_size
        self.hooks = self.user_hooks
        has_grad_hooks = any(type(h).on_grad is not Hook.on_grad for hs in self.hooks for h in hs)
        histories: list[dict[str, list]] = [{"step": [], **{m: [] for m in METRICS}} for _ in self.configs]
        self.stops = [StopRule(c) for c in self.configs]  # the solo run's rule, per member (grokkit.training.stopping)
        finished: dict[int, Run] = {}
        report = on_finished or (lambda i, run: None)
        saver = None if resume_dir is None else ResumeDir(resume_dir, self.keys, resume_every_s)
        resumed = None if saver is None else saver.resume(self, histories, finished)
        step, wall = resumed or (0, 0.0)
        if resumed is None:
            self._capture(0)
            for i in self.active:
                for h in self.hooks[i]:
                    h.on_start(self.ctxs[i])
            self._eval_into(histories, 0)
        else:  # no on_start and no step-0 evaluation again, as in grokkit.training.train
            self._reseat_all()  # member views of the restored stack
            for i in sorted(finished):
                report(i, finished[i])
        t0 = time.perf_counter() - wall
        no_stop_rule = all(c.stop_threshold is None for c in self.configs)
        total = sum(c.max_steps for c in self.configs) if no_stop_rule else None  # member-steps
        bar = RunBar(cfg0, f"ensemble of {len(self.configs)}", enabled=progress, status=False, total=total)
        blocks: torch.Tensor | None = None
        block_len, any_hooks = block_length(E), any(self.hooks)
        grad_hooks = (lambda: self._grad_hooks(step, idx)) if has_grad_hooks else None
        next_end = min((self.stops[i].end for i in self.active), default=step)  # earliest end of a member
        while self.active:
            k = step % block_len
            if k == 0:  # 1. sample: each member draws from its own generator and split
                blocks = torch.stack([self.datasets[i].sample_block(block_len, B, self.gens[i]) for i in self.active])
            assert blocks is not None  # only ever None at a block start (k == 0): after a retirement or a resume
            idx: torch.Tensor = blocks[:, k]  # (N, B)
            self.step(idx, grad_hooks)  # 2–7 for every member at once
            step += 1
            self._capture(step)  # 8. trajectory capture (batched), then step hooks
            if any_hooks:
                for row, i in enumerate(self.active):
                    ctx = self.ctxs[i]
                    ctx.step, ctx.batch = step, idx[row]
                    for h in self.hooks[i]:
                        h.on_step(ctx)
            if step % E == 0:  # 9–10. evaluate, read the stop rule (it may move a member's end closer)
                self._eval_into(histories, step)
                next_end = min(self.stops[i].end for i in self.active)
                bar.update(E * len(self.active), f"{len(self.active)} training")
                if on_progress is not None:
                    on_progress(E * len(self.active))
            if step >= next_end:  # before next_end no member ends: no per-member check
                done = {i for i in self.active if self.stops[i].done(step)}  # a member stops exactly at its stop step
                if done:  # finished members become Runs and leave the stack
                    wall = time.perf_counter() - t0
                    for i in sorted(done):
                        finished[i] = self._to_run(i, histories[i], step, wall)
                        report(i, finished[i])
                    keep = self._retire(done)
                    blocks = blocks[keep] if keep is not None and step % block_len else None
                next_end = min((self.stops[i].end for i in self.active), default=step)
            late = deadline is not None and step % E == 0 and self.active and time.perf_counter() >= deadline
            if saver is not None and step % E == 0 and self.active and (late or saver.due()):
                saver.save(self, step, histories, finished, time.perf_counter() - t0)
            if late:
                break
        bar.close()
        return [finished.get(i) for i in range(len(self.configs))]

    def step(self, idx, grad_hooks=None):
        """Steps 2–7 for every active member: `loss = step(batch, grad_hooks)`, batch (N, B)."""
        if self.fused and self._graphs is None and pack_(self.params, self.exp_avg, self.exp_avg_sq):
            self._reseat_all()  # a new, shrunk or resumed stack was packed: views of one (N, P) buffer each
        if self.device.type == "cuda" and self.configs[0].cuda_graph and not self.configs[0].compile:  # CUDA graphs
            if self._graphs is None:  # (re-captured when the stack shrinks)
                self._graphs = self._capture_graphs(grad_hooks is not None)
            self.idx.copy_(idx)
            self._graphs[0].replay()
            if grad_hooks is not None:
                grad_hooks()
                self._graphs[1].replay()
        else:
            self.idx = idx
            self._forward_backward()  # 2–5. forward, loss, backward, clip (per member)
            if grad_hooks is not None:  # 6. gradient hooks see member views of the stacked gradients
                grad_hooks()
            self._adamw()  # 7. AdamW, per-member hyperparameters
        return self.loss

    def _capture(self, step):
        """Attention snapshots and theta checkpoints of the members due at `step` (grokkit.engines.stacked)."""
        members = [(row, self.configs[i], self.ctxs[i]) for row, i in enumerate(self.active)]
        capture_trajectories(self.params, members, step, self.configs[0].n_layers, self.device)

    def _forward_backward(self):
        rows = torch.arange(len(self.idx), device=self.device)[:, None]
        x, y = self.inputs[self.idx], self.labels[rows, self.idx]
        with tf32(self.configs[0], self.device):  # precision="tf32": TF32 matmuls (CUDA; kept by captured graphs)
            self.grads, self.loss = self._grad_fn(self.params, x, y)  # forward and backward
        self._clip_fn(self.grads, self.hp["clip"])

    def _adamw(self):
        self.t += 1
        hp = [self.hp[k] for k in ("lr", "wd", "beta1", "beta2", "eps")]
        self._adamw_fn(self.params, self.grads, self.exp_avg, self.exp_avg_sq, self.t, *hp, self.no_decay)

    def _grad_hooks(self, step, idx):
        self._reseat_all()
        for row, i in enumerate(self.active):
            ctx = self.ctxs[i]
            ctx.step, ctx.batch, ctx.loss = step, idx[row], self.loss[row]
            for h in self.hooks[i]:
                h.on_grad(ctx)

    def _capture_graphs(self, split: bool):
        """The stacked step as CUDA graphs (grokkit.training.steps.capture_graphs); the batch buffer is fixed."""
        self.idx = torch.zeros(len(self.active), self.configs[0].batch_size, dtype=torch.long, device=self.device)
        state = [self.t, *self.params.values(), *self.exp_avg.values(), *self.exp_avg_sq.values()]
        return capture_graphs(self._forward_backward, self._adamw, state, split)

    def _eval_into(self, histories, step) -> None:
        m = self.evaluate().cpu()  # one host sync per evaluation for the whole ensemble
        for row, i in enumerate(self.active):
            ctx, h = self.ctxs[i], histories[i]
            ctx.step = step
            h["step"].append(ctx.step)
            for name, values in zip(METRICS, m[row].tolist()):
                h[name].append(values)
            ctx.last_eval = {name: h[name][-1] for name in METRICS}
            for hook in self.hooks[i]:
                hook.on_eval(ctx)
            self.stops[i].update(step, h["test_acc"][-1], h["train_loss"][-1] + h["test_loss"][-1])

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

    def _to_run(self, i, history, step, wall) -> Run:
        row, stop = self.active.index(i), self.stops[i]
        weights = {k: v[row].detach().cpu().clone() for k, v in self.params.items()}
        stop.check_weights(step, weights.values())  # a divergence after the last evaluation (grokkit.training.stopping)
        engine = f"ensemble of {len(self.configs)}"
        for h in self.user_hooks[i]:
            h.on_end(self.ctxs[i])
        info = run_info(
            self.keys[i], self.user_hooks[i], self.device, wall, step, stop.stopped_early, engine=engine, **stop.info()
        )
        return self.member_run(i, history, weights, info)

    def member_run(self, i, history, weights, info) -> Run:
        """Member i's Run from its history, recordings and final weights."""
        ctx, ds = self.ctxs[i], self.datasets[i]
        split = (ds.train_idx.cpu(), ds.test_idx.cpu())
        return Run(self.configs[i], history, ctx.records, ctx.stacked_tensors(), split, weights, info)


def train_ensemble(members, *, device=None, progress=True) -> list[Run]:
    """Train [(config, hooks), ...] (or plain configs) as one stacked ensemble; one Run per member."""
    runs = Ensemble([(m, ()) if isinstance(m, Config) else m for m in members], device).run(progress)
    return [r for r in runs if r is not None]  # all of them: without a deadline every member finishes
