"""One memory measurement in a fresh process: ``python -m benchmarks._memory_worker NAME N``.

Prints one JSON line: resident memory after imports and data creation, the peak during the
fit, and what the fit added. Peak tracking is reset after the data exist (Linux clear_refs).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn

from tsforecast import LSTMRegressor, SlidingWindowTransformer

from ._workloads import BareLSTM

N_FEATURES, WINDOW, UNITS, LAYERS, BATCH = 16, 128, 64, 2, 256
CHUNKS = 2  # Lightning batches of tsforecast's fit; 16 minibatches each
STEPS = CHUNKS * 16


def _status(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024  # MB
    raise KeyError(field)


def _bare_steps(X_t: torch.Tensor, y_t: torch.Tensor, gather) -> None:
    torch.manual_seed(0)
    net = BareLSTM(N_FEATURES, UNITS, LAYERS)
    optimizer = torch.optim.Adam(net.parameters())
    order = torch.randperm(len(y_t))[: STEPS * BATCH]
    for index in order.split(BATCH):
        loss = nn.functional.mse_loss(net(gather(index)), y_t[index].unsqueeze(1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()


def _estimator(**params: bool) -> LSTMRegressor:
    return LSTMRegressor(
        **params,
        units=UNITS,
        num_layers=LAYERS,
        batch_size=BATCH,
        max_epochs=1,
        validation_fraction=0.0,
        accelerator="cpu",
        random_state=0,
        trainer_kwargs={"limit_train_batches": CHUNKS},
    )


def main(name: str, n_steps: int) -> None:
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    series = rng.normal(size=(n_steps, N_FEATURES)).astype(np.float32)
    target = rng.normal(size=n_steps).astype(np.float32)
    n_windows = n_steps - WINDOW + 1
    before = _status("VmHWM")
    baseline = _status("VmRSS")
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    if name == "lazy bare loop":
        X_t, y_t = torch.from_numpy(series), torch.from_numpy(target[WINDOW - 1 :])
        offsets = torch.arange(WINDOW)
        _bare_steps(X_t, y_t, lambda i: X_t[(i.unsqueeze(1) + offsets)])
    elif name == "materialised windows":
        X_t = torch.from_numpy(
            np.ascontiguousarray(sliding_window_view(series, WINDOW, axis=0).transpose(0, 2, 1))
        )
        y_t = torch.from_numpy(target[WINDOW - 1 :])
        _bare_steps(X_t, y_t, lambda i: X_t[i])
    elif name == "tsforecast (3-D windows)":
        windows = sliding_window_view(series, WINDOW, axis=0).transpose(0, 2, 1)
        _estimator().fit(windows, target[WINDOW - 1 :])
    elif name == "tsforecast (Pipeline)":
        pipe = make_pipeline(StandardScaler(), SlidingWindowTransformer(WINDOW), _estimator())
        pipe.fit(series, target)
    elif name == "tsforecast (Pipeline, inputs standardized in the network)":
        pipe = make_pipeline(
            SlidingWindowTransformer(WINDOW, lazy=True), _estimator(standardize_inputs=True)
        )
        pipe.fit(series, target)
    else:
        raise ValueError(name)
    peak = _status("VmHWM")
    print(
        json.dumps(
            {
                "contender": name,
                "n_steps": n_steps,
                "n_windows": n_windows,
                "data_mb": series.nbytes / 2**20,
                "after_data_mb": baseline,
                "fit_added_mb": peak - baseline,
                "process_peak_mb": max(before, peak),
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
