"""The training step, one interface for every engine: `loss = step(batch, grad_hooks)`.

A step is papers-spec §1.3's items 2–7: forward, loss, backward, clip the global gradient norm to
`grad_clip`, the gradient hooks (`grad_hooks()`, which may edit the gradients), AdamW. Three ways to
run it, chosen by `make_step` from the config and device, computing the same function:
  EagerStep     plain PyTorch, one kernel at a time (CPU, MPS, and CUDA with cuda_graph=False)
  CompiledStep  forward/loss/backward/clip fused by torch.compile (config.compile)
  GraphedStep   CUDA graphs (config.cuda_graph on CUDA). A step of the 290K model is ~100 small
                kernels; launched one by one from Python the GPU idles between them (~6 ms/step on an
                H200); captured once and replayed they cost ~1 ms. The batch indices are copied into a
                fixed buffer, gradients and optimiser state sit at fixed addresses, AdamW runs with
                `capturable=True`. Gradient hooks run eagerly between two graphs. Capture needs a few
                warm-up steps; they are undone in place, so a graphed run starts where an eager one does.
Every way honours config.precision: "bf16" autocasts the forward, "tf32" runs the step (forward and
backward) with TF32 matmuls on CUDA, captured as such into graphs (grokkit.objective.tf32; fp32 on a CPU).
The ensemble engine (grokkit.engines.ensemble) has its own stacked step with the same interface.
"""

from __future__ import annotations

import torch

from grokkit.config import Config
from grokkit.objective import autocast, task_loss, tf32

__all__ = [
    "capture_graphs",
    "decays",
    "make_optimizer",
    "forward_loss",
    "EagerStep",
    "CompiledStep",
    "GraphedStep",
    "make_step",
]


def decays(name: str, config: Config) -> bool:
    """Whether AdamW's weight decay applies to parameter `name` (all of them, unless decay_exclude)."""
    return not any(fragment in name for fragment in config.decay_exclude)


def make_optimizer(model, config: Config, capturable: bool = False) -> torch.optim.AdamW:
    """AdamW on every parameter (the papers decay embeddings, biases and LayerNorm gains too), except
    the parameters named in config.decay_exclude, which get weight decay 0."""
    fused = next(model.parameters()).device.type in ("cpu", "cuda")
    named = list(model.named_parameters())
    groups = [
        {"params": [p for n, p in named if decays(n, config)], "weight_decay": config.weight_decay},
        {"params": [p for n, p in named if not decays(n, config)], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(
        [g for g in groups if g["params"]],
        lr=config.lr,
        betas=config.betas,
        eps=config.eps,
        fused=fused,
        foreach=None if fused else True,
        capturable=capturable,
    )


def forward_loss(model, config: Config, x, y) -> torch.Tensor:
    with autocast(config, x.device):
        logits = model(x)
    return task_loss(logits, y)


def _clip(model, config: Config) -> None:
    if config.grad_clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip, foreach=True)


class EagerStep:
    def __init__(self, model, opt, config: Config, data):
        self.model, self.opt, self.config, self.data = model, opt, config, data

    def backward(self, x, y) -> torch.Tensor:
        loss = forward_loss(self.model, self.config, x, y)  # 2–3. forward, loss
        self.opt.zero_grad(set_to_none=True)
        loss.backward()  # 4. backward
        _clip(self.model, self.config)  # 5. clip
        return loss

    def __call__(self, batch, grad_hooks=None) -> torch.Tensor:
        with tf32(self.config, self.data.inputs.device):  # precision="tf32": forward and backward (CUDA only)
            loss = self.backward(self.data.inputs[batch], self.data.labels[batch])
            if grad_hooks is not None:  # 6. gradient hooks
                grad_hooks()
            self.opt.step()  # 7. AdamW
        return loss


class CompiledStep(EagerStep):
    def __init__(self, model, opt, config: Config, data):
        super().__init__(model, opt, config, data)

        def backward(x, y):
            loss = forward_loss(model, config, x, y)
            for p in model.parameters():
                p.grad = None
            loss.backward()
            _clip(model, config)
            return loss.detach()

        # the compiled function replaces the eager method on this instance (mypy forbids assigning to a method)
        self.backward = torch.compile(backward)  # type: ignore[method-assign]


def make_step(model, opt, config: Config, data, device: torch.device, split: bool):
    """The step for this config and device (`split`: the run has gradient hooks; graphs leave a gap)."""
    if graphed(config, device):
        return GraphedStep(model, opt, config, data, split=split)
    return CompiledStep(model, opt, config, data) if config.compile else EagerStep(model, opt, config, data)


def graphed(config: Config, device: torch.device) -> bool:
    """CUDA graphs are used on CUDA with cuda_graph=True, unless torch.compile is asked for."""
    return device.type == "cuda" and config.cuda_graph and not config.compile


def _snapshot(model, opt):
    params = [p.detach().clone() for p in model.parameters()]
    state = {id(p): {k: v.clone() if torch.is_tensor(v) else v for k, v in s.items()} for p, s in opt.state.items()}
    return params, state


@torch.no_grad()
def _restore(model, opt, snapshot):
    params, state = snapshot
    for p, saved in zip(model.parameters(), params):
        p.copy_(saved)
    for p, s in opt.state.items():
        saved = state.get(id(p))
        for k, v in s.items():
            if torch.is_tensor(v):
                v.copy_(saved[k]) if saved is not None else v.zero_()  # no state yet = fresh state


class GraphedStep:
    """CUDA graphs: (forward, loss, backward, clip) | grad hooks | (AdamW step), replayed."""

    def __init__(self, model, opt, config, data, split: bool, warmup: int = 3):
        """split: leave a gap between the two graphs for on_grad hooks."""
        self.model, self.config, self.data, self.split = model, config, data, split
        with tf32(config, data.inputs.device):  # TF32 kernels are captured as such (precision="tf32")
            self._capture(opt, warmup)

    def _capture(self, opt, warmup):
        model, config, data, split = self.model, self.config, self.data, self.split
        self.idx = data.train_idx[:1].repeat(config.batch_size)  # the fixed batch buffer
        snap = _snapshot(model, opt)
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(warmup):
                opt.zero_grad(set_to_none=True)
                self._backward()
                opt.step()
        torch.cuda.current_stream().wait_stream(side)
        _restore(model, opt, snap)
        opt.zero_grad(set_to_none=True)
        self.g_grad = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.g_grad):
            self.loss = self._backward()
            if not split:
                opt.step()
        if split:
            self.g_opt = torch.cuda.CUDAGraph()
            with torch.cuda.graph(self.g_opt):
                opt.step()

    def _backward(self):
        x, y = self.data.inputs[self.idx], self.data.labels[self.idx]
        loss = forward_loss(self.model, self.config, x, y)
        loss.backward()
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip, foreach=True)
        return loss.detach()

    def __call__(self, idx, grad_hooks=None):
        self.idx.copy_(idx)
        self.g_grad.replay()
        if self.split:
            if grad_hooks is not None:
                grad_hooks()
            self.g_opt.replay()
        return self.loss


def capture_graphs(backward, update, state, split: bool, warmup: int = 2) -> list:
    """CUDA graphs of one step made of `backward()` (forward, loss, backward, clip) and `update()`
    (the optimiser), with a gap between them when `split` (gradient hooks run there). The warm-up
    steps run on a side stream and are undone in place on the tensors `state` (parameters, optimiser
    state, step counter), so the graphed run starts where an eager one does. Used by the ensemble;
    GraphedStep does the same for a torch.optim optimiser."""
    saved = [t.clone() for t in state]
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(warmup):
            backward()
            update()
    torch.cuda.current_stream().wait_stream(side)
    with torch.no_grad():
        for t, v in zip(state, saved):
            t.copy_(v)
    graphs = [torch.cuda.CUDAGraph()]
    with torch.cuda.graph(graphs[0]):
        backward()
        if not split:
            update()
    if split:
        graphs.append(torch.cuda.CUDAGraph())
        with torch.cuda.graph(graphs[1]):
            update()
    return graphs
