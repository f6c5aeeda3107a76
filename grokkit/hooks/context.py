"""`Context`: what a hook sees of a run in progress (the same object under every engine)."""

from __future__ import annotations

import torch

from grokkit.objective import task_loss


class Context:
    """Attributes: config, model, optimizer, data, device, step, batch, loss, last_eval (dict of
    per-task lists), and the recording methods. Under the ensemble engine `model` is a view of the
    member's slice of the stacked parameters and `optimizer` is None."""

    def __init__(self, config, model, optimizer, data, device):
        self.config, self.model, self.optimizer, self.data, self.device = config, model, optimizer, data, device
        self.step = 0
        self.batch = None  # pair indices of the current batch
        self.loss = None
        self.last_eval = None
        self.records: dict = {}
        self.tensors: dict = {}
        self.flushed: dict = {}  # tensor series -> entries already written to resume chunks
        self.n_chunks = 0

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

    def stacked_tensors(self) -> dict:
        """The recorded tensor series as {name: {"step": LongTensor, "value": stacked Tensor}}."""
        return {n: {"step": torch.tensor(r["step"]), "value": torch.stack(r["value"])} for n, r in self.tensors.items()}
