"""`train(config, hooks)`: the one training loop. Experiments are hooks (grokkit.hooks), never copies.

Each step, in this fixed order (papers-spec §1.3):
  1. sample   512 train pairs with replacement (drawn per evaluation interval on the device)
  2–7.        `loss = step(batch, grad_hooks)` (grokkit.training.steps): forward; loss = sum over tasks of the
              mean cross-entropy; backward; clip the global gradient norm to `grad_clip`; on_grad
              hooks (gradient projection, deletion ...); AdamW (decoupled weight decay on every parameter)
  8. on_step hooks (snapshots, checkpoints, kicks, inline defects ...)
  9. evaluate every `eval_every` steps: all p² pairs in one pass -> train and test accuracy/loss
 10. stop by grokkit.training.stopping's rule (every task's test accuracy >= stop_threshold on stop_patience
     consecutive evaluations, then exactly `steps_after_stop` more steps; or at once when a loss is
     NaN or inf: the run diverged, and its info says at which step, `diverged_at`)
"""

from __future__ import annotations

import time

import torch

from grokkit.bars import RunBar
from grokkit.config import Config
from grokkit.data import block_length, dataset_for
from grokkit.hooks.base import Hook, builtin_hooks, hooks_key
from grokkit.hooks.context import Context
from grokkit.model import build_model
from grokkit.objective import METRICS, evaluate
from grokkit.store.provenance import run_info
from grokkit.store.runs import Run
from grokkit.training.device import one_cpu_thread, resolve_device, seed_everything
from grokkit.training.resume import load_state, save_state
from grokkit.training.steps import graphed, make_optimizer, make_step
from grokkit.training.stopping import StopRule

# the device helpers live in grokkit.training.device
__all__ = ["train", "Interrupted", "resolve_device", "seed_everything"]


class Interrupted(Exception):
    """Training stopped at its `deadline`: the resume state in `resume_dir` holds it at `step`."""

    def __init__(self, step: int, resume_dir):
        super().__init__(f"stopped at step {step:,} by the deadline; resume state in {resume_dir}")
        self.step, self.resume_dir = step, resume_dir


def train(
    config: Config, hooks=(), *, progress: bool = True, resume_dir=None, resume_every_s: float = 60.0, deadline=None
) -> Run:
    """Train one run. `resume_dir`: where to keep resume state (and resume from, if present). `deadline` (a
    time.perf_counter() value; needs `resume_dir`): at the first evaluation past it the state is saved and
    `Interrupted` raised (a later call resumes there, and gives the run an uninterrupted training gives). On a CPU
    it trains on one torch thread (grokkit.training.device.one_cpu_thread: the same bits however it is trained)."""
    if deadline is not None and resume_dir is None:
        raise ValueError("a deadline needs a resume_dir: the state it stops at must be kept")
    device = resolve_device(config.device)
    with one_cpu_thread(device):
        return _train(config, hooks, device, progress, resume_dir, resume_every_s, deadline)


def _train(
    config: Config, hooks, device: torch.device, progress: bool, resume_dir, resume_every_s: float, deadline=None
) -> Run:
    if device.type == "cpu":
        torch.set_flush_denormal(True)  # denormals in AdamW's state slow long CPU runs ~1.5x
    seed_everything(config.seed)
    data = dataset_for(config).to(device)
    model = build_model(config).to(device)
    opt = make_optimizer(model, config, capturable=graphed(config, device))
    gen = torch.Generator(device).manual_seed(config.seed)  # the batch stream's own generator
    hooks = builtin_hooks(config) + list(hooks)
    ctx = Context(config, model, opt, data, device)
    history: dict[str, list] = {"step": [], **{m: [] for m in METRICS}}
    stop, wall = StopRule(config), 0.0

    key = config.key(hooks_key(hooks))
    state = load_state(resume_dir, key)
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        ctx.step, history, wall = state["step"], state["history"], state["wall"]
        stop = StopRule(config, state["streak"], state["stop_at"], state.get("diverged_at"))
        ctx.records, ctx.tensors = state["records"], state["tensors"]
        ctx.flushed = {name: len(r["step"]) for name, r in ctx.tensors.items()}
        ctx.n_chunks = state["n_chunks"]
        for h, s in zip(hooks, state["hooks"]):
            h.load_state_dict(s)
    else:
        for h in hooks:
            h.on_start(ctx)
        _evaluate_into(ctx, history, hooks)

    # after any resume: CUDA graphs capture the tensors as they are now
    has_grad_hooks = any(type(h).on_grad is not Hook.on_grad for h in hooks)
    step = make_step(model, opt, config, data, device, split=has_grad_hooks)
    grad_hooks = (lambda: [h.on_grad(ctx) for h in hooks]) if has_grad_hooks else None
    bar = RunBar(config, f"{'+'.join(config.ops)} s{config.seed}", ctx.step, progress)
    t0, last_save = time.perf_counter(), time.perf_counter()
    block, block_len = None, block_length(config.eval_every)
    model.train()
    while not stop.done(ctx.step):
        k = ctx.step % block_len  # 1. sample: one block of batches at a time (an evaluation interval, ≤ 1000 steps)
        if block is None or k == 0:
            block = data.sample_block(block_len, config.batch_size, gen)
        ctx.batch = block[k]
        ctx.loss = step(ctx.batch, grad_hooks)  # 2–7
        ctx.step += 1
        for h in hooks:  # 8. step hooks
            h.on_step(ctx)
        if ctx.step % config.eval_every == 0:  # 9. evaluate; 10. the stop rule (one host sync per evaluation)
            stop.update(ctx.step, *_evaluate_into(ctx, history, hooks))
            bar.update(config.eval_every, _postfix(history), stop.stop_at)
            late = deadline is not None and time.perf_counter() >= deadline and not stop.done(ctx.step)
            if resume_dir is not None and (late or time.perf_counter() - last_save > resume_every_s):
                save_state(resume_dir, key, model, opt, gen, ctx, history, stop, wall + time.perf_counter() - t0, hooks)
                last_save = time.perf_counter()
            if late:
                bar.close()
                raise Interrupted(ctx.step, resume_dir)
    bar.close()
    wall += time.perf_counter() - t0
    stop.check_weights(ctx.step, model.parameters())
    for h in hooks:
        h.on_end(ctx)
    info = run_info(key, hooks, device, wall, ctx.step, stop.stopped_early, **stop.info())
    weights = {n: p.detach().cpu().clone() for n, p in model.named_parameters()}
    return Run(
        config, history, ctx.records, ctx.stacked_tensors(), (data.train_idx.cpu(), data.test_idx.cpu()), weights, info
    )


def _evaluate_into(ctx, history, hooks) -> tuple[list[float], list[float]]:
    """Evaluate into `history`; (per-task test accuracies, every train and test loss) for the stop rule."""
    m = evaluate(ctx.model, ctx.data, ctx.config).cpu()  # the one sync per evaluation
    history["step"].append(ctx.step)
    for name, row in zip(METRICS, m.tolist()):
        history[name].append(row)
    ctx.last_eval = {name: history[name][-1] for name in METRICS}
    for h in hooks:
        h.on_eval(ctx)
    return history["test_acc"][-1], history["train_loss"][-1] + history["test_loss"][-1]


def _postfix(history) -> str:
    tr, te, loss = history["train_acc"][-1], history["test_acc"][-1], history["train_loss"][-1]
    f = lambda v: "/".join(f"{x:.2f}" for x in v)
    return f"loss {sum(loss):.3f} train {f(tr)} test {f(te)}"
