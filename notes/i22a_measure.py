"""Figures for notes/i22a.md; runs on the old and the new tree."""
import warnings, numpy as np, pandas as pd, torch
torch.set_num_threads(1)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tsforecast import LSTMRegressor, SlidingWindowTransformer, make_supervised
from tsforecast.compose import AdaptiveConformalRegressor
from tsforecast.datasets import load_fx
from tsforecast.preprocessing import HistoryPaddingWarning, ReturnsTransformer, predict_with_history

L = {"units": 4, "max_epochs": 1, "batch_size": 32, "random_state": 0}
def win(w=5): return make_pipeline(StandardScaler(), SlidingWindowTransformer(window=w), LSTMRegressor(**L))
def run(name, f):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        try: out = f()
        except Exception as e: out = f"{type(e).__name__}: {str(e)[:90]}"
    w = [r for r in rec if issubclass(r.category, HistoryPaddingWarning)]
    print(f"{name}: {out} | HistoryPaddingWarning: {len(w)}")

fx = np.log(load_fx()[["USD", "CAD"]].iloc[-140:]); X, y = make_supervised(fx, "USD")
train = X.iloc[:100]
pipe = win(8).set_output(transform="pandas").fit(train, y.iloc[:100])
full = pipe.predict(train)
run("17 ECB predict(train.iloc[[-1]]) - predict(train)[-1]", lambda: float(abs(pipe.predict(train.iloc[[-1]])[0] - full[-1])))
cont = pipe.predict(X.iloc[100:])
run("17 ECB rows after a 12-row gap, max |padded - real|", lambda: float(np.abs(pipe.predict(X.iloc[112:])[:7] - cont[12:19]).max()))

idx = pd.bdate_range("2022-01-03", periods=80)
rng = np.random.default_rng(0)
D = pd.DataFrame({"x": rng.normal(size=80).cumsum() + 50, "z": np.exp(np.sin(np.arange(80)))}, index=idx)
t = D["x"].shift(-1).ffill().to_numpy()
qs = win().fit(D.iloc[:60], t[:60]); kept = win().set_output(transform="pandas").fit(D.iloc[:60], t[:60])
real = kept.predict(D)[60:]
run("3 quick-start predict(X.iloc[split:]) max |padded - real| (first 4 rows)", lambda: float(np.abs(qs.predict(D.iloc[60:])[:4] - real[:4]).max()))
P = D.set_axis(pd.period_range("2001-01", periods=80, freq="M"))
run("3 PeriodIndex windows continue", lambda: bool(np.array_equal(SlidingWindowTransformer(window=4).fit(P.iloc[:25]).transform(P.iloc[25:]), SlidingWindowTransformer(window=4).fit_transform(P)[25:])))
run("3 PeriodIndex ReturnsTransformer first return", lambda: float(ReturnsTransformer().fit(P.iloc[:25]).transform(P.iloc[25:])[0, 0]))
S = D.set_axis([f"d{i:02d}" for i in range(80)])
run("3 string index, transform of the rows after the fit", lambda: "padded" if np.array_equal(*[SlidingWindowTransformer(window=4).fit(S.iloc[:25]).transform(S.iloc[25:])[0, :, 0], np.repeat(S.iloc[25, 0], 4)]) else "history")

for h in (1, 3):
    m = AdaptiveConformalRegressor(win().set_output(transform="pandas"), horizon=h, calibration_fraction=0.25)
    def conf():
        m.fit(D.iloc[:60], t[:60])
        after = m.predict(D.iloc[60:])
        real = predict_with_history(m.estimator_, D.iloc[:60], D.iloc[60:])
        n = len(m.calibration_scores_)
        rc = predict_with_history(m.estimator_, D.iloc[:60 - n], D.iloc[60 - n:60])
        return f"after fit max|err| {np.abs(after - real).max():.4f}, calibration scores max|err| {np.abs(m.calibration_scores_ - np.abs(rc - t[60-n:60])).max():.4f}"
    run(f"2 conformal horizon={h}", conf)
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from tsforecast.preprocessing import history_length
g = GridSearchCV(win(6).set_output(transform="pandas"), {"lstmregressor__units": [4]}, cv=TimeSeriesSplit(2)).fit(D.iloc[:60], t[:60])
run("2 history_length(GridSearchCV), conformal", lambda: (history_length(g), history_length(AdaptiveConformalRegressor(win(6)).fit(D.iloc[:60], t[:60]))))
run("pwh predict_quantiles on a Pipeline", lambda: predict_with_history(make_pipeline(SlidingWindowTransformer(window=5), LSTMRegressor(**L, loss="quantile")).fit(D.iloc[:60], t[:60]), D.iloc[55:60], D.iloc[60:], method="predict_quantiles").shape)
from tsforecast import save_model
import tempfile, os
run("18 save_model(pipeline)", lambda: (save_model(kept, os.path.join(tempfile.mkdtemp(), "m.pt")), "saved")[1])
