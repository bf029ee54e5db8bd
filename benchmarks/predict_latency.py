"""Predict latency: one window (online use) and the whole test set, against the bare module."""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ._harness import interleaved, summarize
from ._workloads import (
    WORKLOADS,
    PlainLightningModule,
    quiet_trainer,
    sp500_windows,
    tsforecast_regressor,
)


def run(rounds: dict[str, int]) -> dict:
    w = WORKLOADS["a"]
    X, y = sp500_windows(w.window)
    split = int(len(X) * 0.8)
    model = tsforecast_regressor(w, max_epochs=1).fit(X[:split], y[:split])
    net = model.module_.eval()
    lightning = PlainLightningModule(X.shape[2], w)
    lightning.net.load_state_dict(
        {k.replace("groups.0.", "lstm."): v for k, v in net.state_dict().items()}
    )
    trainer = quiet_trainer()

    def bare(batch: np.ndarray) -> np.ndarray:
        # The same contract as predict: a NumPy window in, NumPy predictions out.
        with torch.inference_mode():
            return net(torch.from_numpy(batch)).numpy()

    def lightning_predict(batch: np.ndarray) -> np.ndarray:
        loader = DataLoader(TensorDataset(torch.from_numpy(batch)), batch_size=len(batch))
        return torch.cat(trainer.predict(lightning, loader)).numpy()

    one, test = X[split : split + 1], X[split:]
    np.testing.assert_allclose(model.predict(one), bare(one).ravel(), rtol=1e-5)
    results = {"workload": w.name, "test_windows": len(test)}
    for label, batch, n in (("single window", one, "single"), ("whole test set", test, "whole")):
        times = interleaved(
            {
                "bare forward": lambda b=batch: bare(b),
                "tsforecast": lambda b=batch: model.predict(b),
            },
            rounds=rounds[n],
            warmup=20,
        )
        slow = interleaved(
            {
                "bare forward": lambda b=batch: bare(b),
                "Lightning predict": lambda b=batch: lightning_predict(b),
            },
            rounds=max(5, rounds[n] // 20),
            warmup=2,
        )
        summary = summarize(times, "bare forward")
        summary["Lightning trainer.predict"] = summarize(slow, "bare forward")["Lightning predict"]
        results[label] = summary
    return results
