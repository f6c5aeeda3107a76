"""What training minimises and what an evaluation measures (papers-spec §1.3).

`task_loss`: the SUM over tasks of each task's mean cross-entropy (not the mean over tasks), so a
dual-task run's loss is twice a single-task one at equal per-task error. `evaluate`: all p² pairs
in one pass (chunked), per-task accuracy and mean cross-entropy on the train and the test pairs.
"""

from __future__ import annotations

from contextlib import contextmanager, nullcontext

import torch
import torch.nn.functional as F

from grokkit.config import Config
from grokkit.data import Dataset

METRICS = ("train_acc", "test_acc", "train_loss", "test_loss")


def autocast(config: Config | None, device: torch.device):
    """bf16 autocast when `config.precision == "bf16"`, else a no-op context."""
    if config is not None and config.precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


@contextmanager
def tf32(config: Config | None, device: torch.device):
    """TF32 matmuls (and cuDNN convolutions) inside, when `config.precision == "tf32"` on CUDA; the
    process's previous settings are restored on exit. Elsewhere a no-op: on a CPU "tf32" is plain fp32.
    Kernels captured into a CUDA graph inside keep their TF32 math when replayed."""
    if config is None or config.precision != "tf32" or device.type != "cuda":
        yield
        return
    matmul = torch.get_float32_matmul_precision()
    try:
        conv = torch.backends.cudnn.allow_tf32
    except RuntimeError:  # flags set through torch's newer per-operator API: leave cuDNN as it is
        conv = None
    torch.set_float32_matmul_precision("high")
    if conv is not None:
        torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        torch.set_float32_matmul_precision(matmul)
        if conv is not None:
            torch.backends.cudnn.allow_tf32 = conv


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
    correct_chunks: list[torch.Tensor] = []
    loss_chunks: list[torch.Tensor] = []
    with autocast(config, data.inputs.device), tf32(config, data.inputs.device):
        for i in range(0, len(data.inputs), chunk):
            logits = model(data.inputs[i : i + chunk]).float()  # (T, n, C)
            y = data.labels[i : i + chunk].T  # (T, n)
            correct_chunks.append((logits.argmax(-1) == y).float())
            loss_chunks.append(F.cross_entropy(logits.permute(1, 2, 0), y.T, reduction="none").T)
    correct, losses = torch.cat(correct_chunks, 1), torch.cat(loss_chunks, 1)  # (T, N)
    model.train(was_training)
    tr, te = data.train_idx, data.test_idx
    return torch.stack([correct[:, tr].mean(1), correct[:, te].mean(1), losses[:, tr].mean(1), losses[:, te].mean(1)])
