"""Everything timed on CUDA, so that one run on a GPU machine gives every GPU figure:

- workload (a) scaled up: tsforecast vs bare PyTorch with cuDNN, fp32 and bf16-mixed;
- each recurrent cell's fit time (``cells.py``'s workload) on CUDA;
- fold models trained together vs one by one (``folds_together.py``'s cases) on CUDA.

Skipped (an empty result) without a GPU.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tsforecast import LSTMRegressor

from . import cells, folds_together
from ._harness import interleaved, summarize
from ._workloads import BareLSTM, sp500_windows

WINDOW, UNITS, LAYERS, BATCH, EPOCHS = 64, 256, 2, 1024, 5


def _bare(X: torch.Tensor, y: torch.Tensor, bf16: bool) -> None:
    torch.manual_seed(0)
    net = BareLSTM(1, UNITS, LAYERS).cuda()
    optimizer = torch.optim.Adam(net.parameters())
    for _ in range(EPOCHS):
        for index in torch.randperm(len(X), device="cuda").split(BATCH):
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
                loss = nn.functional.mse_loss(net(X[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    torch.cuda.synchronize()


def _ours(X: np.ndarray, y: np.ndarray, precision: str) -> None:
    LSTMRegressor(
        units=UNITS,
        num_layers=LAYERS,
        batch_size=BATCH,
        max_epochs=EPOCHS,
        validation_fraction=0.0,
        standardize_target=False,
        accelerator="cuda",
        precision=precision,
        random_state=0,
    ).fit(X, y)
    torch.cuda.synchronize()


def run(rounds: int) -> dict:
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device"}
    X, y = sp500_windows(WINDOW)
    X_gpu = torch.from_numpy(X).cuda()
    y_gpu = torch.from_numpy(y).cuda().unsqueeze(1)
    results = {
        "setup": f"window {WINDOW}, {LAYERS} x {UNITS} units, batch {BATCH}, {EPOCHS} epochs"
    }
    for label, precision, bf16 in (("fp32", "32-true", False), ("bf16-mixed", "bf16-mixed", True)):
        times = interleaved(
            {
                "bare PyTorch (cuDNN)": lambda b=bf16: _bare(X_gpu, y_gpu, b),
                "tsforecast": lambda p=precision: _ours(X, y, p),
            },
            rounds=rounds,
            warmup=1,
        )
        summary = summarize(times, "bare PyTorch (cuDNN)")
        for stats in summary.values():
            stats["samples_per_second"] = len(X) * EPOCHS / stats["median_s"]
        results[label] = summary
    results["cells"] = {
        "setup": cells.setup(len(sp500_windows(cells.WINDOW)[0])),
        "cuda": cells.time_cells(rounds, "cuda"),
    }
    results["folds_together"] = {
        **folds_together.fit_cases(rounds, "cuda"),
        "backtest, workload a": folds_together.backtest_case(max(1, rounds // 2), "cuda"),
    }
    return results
