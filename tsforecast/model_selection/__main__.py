"""``python -m tsforecast.model_selection JOB``: a worker of a shared Optuna study."""

from ._worker import main

if __name__ == "__main__":
    main()
