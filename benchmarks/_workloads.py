"""The benchmark workloads and the contenders' hand-written baselines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from numpy.lib.stride_tricks import sliding_window_view
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tsforecast import LSTMRegressor
from tsforecast.datasets import load_sp500


@dataclass(frozen=True)
class Workload:
    """A fit configuration: window length, LSTM shape, batch size, epochs."""

    name: str
    window: int
    units: int
    num_layers: int
    batch_size: int
    epochs: int = 10
    learning_rate: float = 1e-3


WORKLOADS = {
    "a": Workload("a: S&P 500 returns, window 30, 2 x 64 units, batch 64", 30, 64, 2, 64),
    "b": Workload("b: small model, window 10, 1 x 16 units, batch 32", 10, 16, 1, 32),
}


def tsforecast_regressor(w: Workload, **overrides: Any) -> LSTMRegressor:
    """tsforecast's estimator configured like the bare loop of workload ``w``."""
    params: dict[str, Any] = {
        "units": w.units,
        "num_layers": w.num_layers,
        "batch_size": w.batch_size,
        "max_epochs": w.epochs,
        "learning_rate": w.learning_rate,
        "validation_fraction": 0.0,
        "standardize_target": False,
        "accelerator": "cpu",
        "random_state": 0,
    }
    return LSTMRegressor(**{**params, **overrides})


def sp500_windows(window: int) -> tuple[np.ndarray, np.ndarray]:
    """Standardized S&P 500 daily log returns as windows ``(n, window, 1)`` and next returns."""
    returns = np.log(load_sp500()["Close"]).diff().dropna().to_numpy()
    returns = ((returns - returns.mean()) / returns.std()).astype(np.float32)
    X = sliding_window_view(returns[:-1], window)[:, :, np.newaxis]
    return np.ascontiguousarray(X), returns[window:]


class BareLSTM(nn.Module):
    """The same network as tsforecast's: nn.LSTM, then a linear head on the last state."""

    def __init__(self, n_features: int, units: int, num_layers: int) -> None:
        super().__init__()
        self.lstm = nn.LSTM(n_features, units, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(units, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, (h_n, _) = self.lstm(x)
        return self.head(h_n[-1])


def bare_fit(X: np.ndarray, y: np.ndarray, w: Workload, seed: int = 0) -> BareLSTM:
    """The best hand-written loop: tensors in memory, minibatches by index slicing."""
    torch.manual_seed(seed)
    net = BareLSTM(X.shape[2], w.units, w.num_layers)
    optimizer = torch.optim.Adam(net.parameters(), lr=w.learning_rate)
    loss_fn = nn.MSELoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(w.epochs):
        for index in torch.randperm(len(X_t), generator=generator).split(w.batch_size):
            loss = loss_fn(net(X_t[index]), y_t[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    return net


class PlainLightningModule(pl.LightningModule):
    """What a typical Lightning script looks like: automatic optimization, a logged loss."""

    def __init__(self, n_features: int, w: Workload) -> None:
        super().__init__()
        self.net = BareLSTM(n_features, w.units, w.num_layers)
        self.learning_rate = w.learning_rate

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch: tuple[torch.Tensor, torch.Tensor], batch_idx: int):
        x, y = batch
        loss = nn.functional.mse_loss(self.net(x), y)
        self.log("train_loss", loss, on_step=False, on_epoch=True)
        return loss

    def predict_step(self, batch: tuple[torch.Tensor, ...], batch_idx: int) -> torch.Tensor:
        return self.net(batch[0])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.parameters(), lr=self.learning_rate)


def quiet_trainer(**kwargs) -> pl.Trainer:
    return pl.Trainer(
        accelerator="cpu",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        **kwargs,
    )


def lightning_fit(X: np.ndarray, y: np.ndarray, w: Workload, seed: int = 0) -> pl.Trainer:
    torch.manual_seed(seed)
    module = PlainLightningModule(X.shape[2], w)
    data = TensorDataset(torch.from_numpy(X), torch.from_numpy(y).unsqueeze(1))
    loader = DataLoader(data, batch_size=w.batch_size, shuffle=True)
    trainer = quiet_trainer(max_epochs=w.epochs)
    trainer.fit(module, loader)
    return trainer
