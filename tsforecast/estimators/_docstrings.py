"""Docstring sections shared by the LSTM estimators (a data block, not logic)."""

_SHARED_PARAMETERS_DOC = """
    units : int or tuple of int, default=64
        Hidden units of each LSTM layer: one int for every layer, or one int per layer.
    num_layers : int, default=1
        Number of stacked LSTM layers.
    dropout : float, default=0.0
        Dropout between stacked layers and on the last hidden state before the dense head.
    bidirectional : bool, default=False
        Also read each sequence backwards; the head sees the last state of both directions.
        Suited to classifying whole sequences (image rows, sentences). For forecasting it is
        not a leak, since it reads only the past inside each window, but it rarely helps:
        the most recent step, the one that matters most, is the backward pass's first.
    cell : {"lstm", "gru", "peephole"}, default="lstm"
        Recurrent cell. ``"lstm"`` is ``torch.nn.LSTM`` (cuDNN on a GPU), ``"gru"`` is
        ``torch.nn.GRU``. ``"peephole"`` is the LSTM of Gers & Schmidhuber (2000) whose gates
        also read the cell state through diagonal weights: the input and forget gates read the
        previous cell state ``c_{t-1}``, the output gate the new one ``c_t``; it runs as a
        TorchScript loop, slower than the fused kernels (see the benchmarks).
    embedding_dim : int, default=None
        Read ``X`` as integer token ids through an embedding layer of this width. ``X`` is
        then a 2-D array of ids, each row padded with ``padding_idx`` after its end (e.g. by
        :class:`~tsforecast.preprocessing.TextTokenizer`), or a ragged list of id sequences.
        Sequences are packed: the padding after a sequence never changes its prediction, and predict
        accepts any sequence length.
    vocab_size : int, default=None
        Number of token ids (``padding_idx`` included). ``None`` infers it as the largest id
        seen in ``fit`` plus one; ids beyond the vocabulary are refused at predict.
    padding_idx : int, default=0
        The padding token id (embedded as zeros, never trained).
    optimizer : {"adam", "adamw", "rmsprop", "sgd"}, default="adam"
        Optimizer.
    learning_rate : float, default=1e-2
        Optimizer step size.
    optimizer_kwargs : dict, default=None
        Further optimizer arguments, e.g. ``{"weight_decay": 1e-4}``.
    batch_size : int, default=64
        Samples per training step.
    windows_per_epoch : int, default=None
        Train each epoch on this many windows drawn at random (with replacement, from the
        seeded generator) instead of every window once: for panels too large to visit every
        window each epoch, as neuralforecast's ``windows_batch_size``. ``None`` uses every
        window.
    max_epochs : int, default=100
        Maximum passes over the training data in ``fit``.
    validation_fraction : float or "auto", default="auto"
        Fraction of the samples, taken from the end (the most recent), held out to stop early
        and to pick the best epoch's weights. Training samples whose window shares a time step
        with a validation window are dropped. ``0`` trains on everything for ``max_epochs``.
        ``"auto"`` holds out 0.1 when that is at least 50 samples (from about 500 samples
        on), and nothing below: a validation loss over fewer samples is too noisy to choose
        an epoch by.
    patience : int or None, default=10
        Epochs without improvement of the validation loss before training stops; ``None``
        trains ``max_epochs`` and still restores the best epoch.
    gradient_clip_val : float, default=None
        Clip the gradient norm at this value.
    accelerator : {"auto", "cpu", "gpu", "cuda", "mps"}, default="auto"
        Lightning accelerator: ``"auto"`` uses a GPU when one is present, else the CPU.
    devices : int, list of int or str, default=1
        Lightning devices. More than one trains with DDP in spawned processes; a script doing
        so needs an ``if __name__ == "__main__":`` guard.
    precision : {"32-true", "32", 32, "16-mixed", "bf16-mixed"}, default="32-true"
        Lightning precision, e.g. ``"bf16-mixed"`` on a recent GPU.
    trainer_kwargs : dict, default=None
        Further :class:`lightning.pytorch.Trainer` arguments; they override the defaults above
        (e.g. ``{"logger": CSVLogger("logs")}``). ``callbacks`` (a list of Lightning callbacks)
        and ``logger`` are used as given, not copied. When a logger, a progress bar or a
        callback watching batches is present, every Lightning step is one optimizer step.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and dropout. On CPU an int gives identical
        models on every fit; the global torch random state is left untouched.
    verbose : int, default=0
        ``0`` prints nothing and writes nothing to disk; ``1`` shows Lightning's progress bar
        and model summary.
    warm_start : bool, default=False
        Continue from the previous solution when ``fit`` is called again.
    checkpoint_path : str or path-like, default=None
        Back up the whole training state to this file after every whole epoch of ``fit``
        (with the early-stopping decision). If the file exists when ``fit`` starts (a fit was
        interrupted or crashed), training resumes from it and ends where an uninterrupted fit
        would have (on CPU, bit for bit); a file written for other parameters or other data
        is refused. The file is deleted when ``fit`` completes.
    standardize_inputs : bool, default=False
        Standardize each input feature inside the network, ``(x - input_mean_) /
        input_scale_``, with the mean and standard deviation of the rows that ``fit``'s
        windows read (each row once), as a :class:`~sklearn.preprocessing.StandardScaler`
        before the windows would. The data are then read as given, with no scaled copy: with
        ``SlidingWindowTransformer(window, lazy=True)`` a Pipeline trains on ``X``'s own
        memory. Kept by ``partial_fit`` and warm starts; ignored for token input. Padding
        rows that the windows hold as data count as rows (the copies of the first row of a
        non-lazy ``padding="edge"``, the zeros of ``padding="zero"``, which then are raw
        zeros, not zeros after scaling): use lazy edge padding to match a scaler exactly.
"""

_SHARED_ATTRIBUTES_DOC = """
    module_ : torch.nn.Module
        The trained network (on the CPU); ``module_(x)`` maps a float32 tensor
        ``(batch, n_timesteps, n_features)`` to raw outputs.
    history_ : list of dict
        One record per whole epoch: ``epoch`` (counted over every ``fit``/``partial_fit``
        that built on the same network), ``train_loss`` and, with validation, ``val_loss``.
    n_iter_ : int
        Epochs trained in total: ``len(history_)``.
    best_epoch_ : int or None
        The epoch whose weights ``module_`` holds when the last fit validated (or diverged):
        the lowest validation loss (else training loss) of that fit. With a linear skip, the
        network the fit started from competes too: if no epoch beat it, ``best_epoch_`` is
        the epoch before the fit's first (-1 for a new model).
    best_loss_ : float
        The monitored loss of ``best_epoch_``.
    vocab_size_ : int
        Size of the embedding's vocabulary (token input only).
    n_features_in_ : int
        Number of columns of ``X`` as scikit-learn counts them: for 2-D input the columns
        (each one a time step of a univariate sequence, so predict needs the same number),
        for 3-D input the features per time step (the number of time steps may vary).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Column names of a DataFrame ``X`` (2-D input only).
    input_mean_, input_scale_ : ndarray of shape (n_features,)
        Standardization of each input feature inside the network (``standardize_inputs=True``
        only; one feature for 2-D input).
"""

_INPUT_DOC = """
    Input ``X`` is either a 3-D array ``(n_samples, n_timesteps, n_features)`` (windows, e.g. from
    :class:`~tsforecast.SlidingWindowTransformer`, or sequences such as image rows) or a 2-D array
    or DataFrame ``(n_samples, n_timesteps)`` read as univariate sequences. Windows produced by a
    sliding-window view are recognised from their memory layout and never copied one by one:
    the model keeps their 2-D base and gathers each batch by index.

    Training runs through a :class:`lightning.pytorch.Trainer` built inside ``fit``; ``predict``
    calls the network directly in batches, without a Trainer (and without importing Lightning).

    A ``fit`` or ``partial_fit`` that raises leaves the estimator exactly as it was. Ctrl+C
    during ``fit`` keeps the weights of the best whole epoch so far (with a warning) and then
    raises ``KeyboardInterrupt``, so that a search or script around it stops too.
"""


_LOSS_DOC = '    loss : {"mse", "mae", "huber", "quantile", "qlike"}, default="mse"'
