"""The training step as CUDA graphs: a GPU step without launch overhead or host synchronisation.

A step of the 290K model is ~100 small kernels; launched one by one from Python the GPU idles
between them (~6 ms/step on an H200). Captured once and replayed, the same kernels cost ~1 ms.
What the graph needs, and gets here: batch indices copied into a fixed buffer (drawn on the device
per evaluation interval), gradients and optimiser state at fixed addresses, and AdamW with
`capturable=True` (its step counter lives on the device). Gradient hooks still run, eagerly,
between two graphs: (forward, loss, backward, clip) | on_grad hooks | (AdamW step).

Capture needs a few warm-up steps; they are undone in place (parameters and optimiser state are
restored to their values before the warm-up), so a graphed run starts exactly where an eager one does.
"""
from __future__ import annotations

import torch


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
    """step(idx, on_grad) -> loss: replay forward/backward/clip [, on_grad] and the AdamW step."""

    def __init__(self, model, opt, config, data, forward_loss, split: bool, warmup: int = 3):
        """forward_loss(x, y) -> loss (autocast included); split: leave a gap for on_grad hooks."""
        self.model, self.config, self.data, self.forward_loss, self.split = model, config, data, forward_loss, split
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
        loss = self.forward_loss(x, y)
        loss.backward()
        if self.config.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip, foreach=True)
        return loss.detach()

    def __call__(self, idx, on_grad=None):
        self.idx.copy_(idx)
        self.g_grad.replay()
        if self.split:
            if on_grad is not None:
                on_grad()
            self.g_opt.replay()
        return self.loss
