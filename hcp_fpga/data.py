"""Data sets: the built-in ``digits`` (scikit-learn) and ``mnist1d`` (generated offline), and
user ``.npz`` files with ``X_train, y_train, X_test, y_test``. Nothing is downloaded.

Shapes are checked against a model's input at the boundary, so mistakes fail with a clear
message instead of deep inside TensorFlow or the C simulation.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

import numpy as np

from hcp_fpga.errors import ConfigError, DataError, check_regular_file

BUILTIN = ("digits", "mnist1d")
NPZ_KEYS = ("X_train", "y_train", "X_test", "y_test")


@dataclass(frozen=True)
class Dataset:
    """Train/test arrays (and a validation split carved from train, when asked); ``y`` are integer
    class labels. Decisions use the validation split; the test split is only reported."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    builtin: bool = True
    x_val: Optional[np.ndarray] = None
    y_val: Optional[np.ndarray] = None

    def with_validation(self, fraction: float = 0.2, seed: int = 0) -> "Dataset":
        """``fraction`` of the training split set aside (seeded; stratified when every class has at
        least two samples) as the validation split the optimize loop decides on."""
        if not 0.0 < fraction < 1.0:
            raise DataError(f"validation fraction {fraction} is invalid; give a fraction in (0, 1), e.g. 0.2")
        n_val = int(round(len(self.x_train) * fraction))
        if n_val < 1 or len(self.x_train) - n_val < 1:
            raise DataError(f"data '{self.name}' has {len(self.x_train)} training samples: too few to set "
                            f"{fraction:.0%} aside for validation; give more training data")
        from sklearn.model_selection import train_test_split

        counts = np.bincount(self.y_train)
        stratify = self.y_train if counts[counts > 0].min() >= 2 and n_val >= len(counts[counts > 0]) else None
        idx_train, idx_val = train_test_split(np.arange(len(self.x_train)), test_size=n_val, random_state=seed,
                                              stratify=stratify)
        return replace(self, x_train=self.x_train[idx_train], y_train=self.y_train[idx_train],
                       x_val=self.x_train[idx_val], y_val=self.y_train[idx_val])

    def without_test(self) -> "Dataset":
        """This data with an empty test split: what the search's evaluations receive (they decide on
        the validation split and never see test data)."""
        return replace(self, x_test=self.x_test[:0], y_test=self.y_test[:0])

    @property
    def n_classes(self) -> int:
        return int(max(self.y_train.max(initial=0), self.y_test.max(initial=0))) + 1

    @property
    def sample_shape(self) -> tuple:
        return tuple(self.x_train.shape[1:])

    def for_model(self, input_shape: tuple) -> "Dataset":
        """This data shaped for a model input of ``input_shape`` (without the batch axis).

        Built-in data sets are reshaped when the element counts match (digits 64 -> 8x8x1). User data
        is reshaped only when the shapes differ by axes of length 1 (a (N, 40) array for a (40, 1)
        input): anything else (64 -> 8x8) could be laid out either way, so it is refused.
        """
        want = tuple(int(d) for d in input_shape)
        if self.sample_shape == want:
            return self
        same_size = int(np.prod(self.sample_shape)) == int(np.prod(want))
        unit_axes_only = tuple(d for d in self.sample_shape if d != 1) == tuple(d for d in want if d != 1)
        if same_size and (self.builtin or unit_axes_only):
            return replace(self, x_train=self.x_train.reshape((-1, *want)), x_test=self.x_test.reshape((-1, *want)),
                           x_val=self.x_val.reshape((-1, *want)) if self.x_val is not None else None)
        hint = "reshape the arrays in the .npz to the model input" if not self.builtin \
            else "use a model whose input has the same number of features"
        raise DataError(
            f"data '{self.name}' has samples of shape {self.sample_shape} but the model expects {want}; {hint}"
        )


def load_digits_dataset(test_fraction: float = 0.25, seed: int = 0) -> Dataset:
    """scikit-learn's 8x8 digits (1,797 images, 10 classes), pixels scaled to [0, 1], stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction, random_state=seed, stratify=y)
    return Dataset("digits", x_tr, y_tr, x_te, y_te)


def load_mnist1d_dataset(seed: Optional[int] = None) -> Dataset:
    """MNIST-1D (4,000 train / 1,000 test sequences of length 40, 10 classes), generated offline."""
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    if seed is not None:
        args.seed = seed
    d = make_dataset(args)
    return Dataset(
        "mnist1d",
        d["x"].astype(np.float32),
        d["y"].astype(np.int64),
        d["x_test"].astype(np.float32),
        d["y_test"].astype(np.int64),
    )


def load_npz_dataset(path: Path | str, test_only: bool = False) -> Dataset:
    """A user data set: an .npz with X_train, y_train, X_test, y_test (labels as integers or one-hot;
    key case does not matter). ``test_only`` (C simulation evaluates the test split only): the
    train arrays may be missing."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file '{path}' does not exist; give digits, mnist1d or an existing .npz")
    check_regular_file(path, f"data file '{path}'", "give an .npz file", DataError)
    needed = NPZ_KEYS[2:] if test_only else NPZ_KEYS
    try:
        with np.load(path, allow_pickle=False) as z:
            by_lower: dict[str, str] = {}
            for name in z.files:
                if name.lower() in by_lower:
                    raise DataError(f"data file '{path}' holds both '{by_lower[name.lower()]}' and '{name}'; keep one")
                by_lower[name.lower()] = name
            missing = [k for k in needed if k.lower() not in by_lower]
            if missing:
                raise DataError(f"data file '{path}' lacks {', '.join(missing)} (has {', '.join(z.files) or 'nothing'}); "
                                "save it with np.savez(path, X_train=..., y_train=..., X_test=..., y_test=...)")
            arrays = {k: z[by_lower[k.lower()]] for k in NPZ_KEYS if k.lower() in by_lower}
    except DataError:
        raise
    except Exception as exc:  # numpy raises several types for corrupt archives
        raise DataError(f"data file '{path}' cannot be read as .npz ({type(exc).__name__}); re-save it with np.savez") from None
    if "X_train" not in arrays or "y_train" not in arrays:  # test only: an empty train split of the same shape
        arrays["X_train"] = np.zeros((0, *arrays["X_test"].shape[1:]), dtype=np.float32)
        arrays["y_train"] = np.zeros((0,), dtype=np.int64)
    for split in ("train", "test"):
        x, y = arrays[f"X_{split}"], arrays[f"y_{split}"]
        if len(x) != len(y):
            raise DataError(f"data file '{path}': X_{split} has {len(x)} rows but y_{split} has {len(y)}; they must match")
        if x.dtype == object or y.dtype == object:
            raise DataError(f"data file '{path}': arrays must be numeric, not objects")
    if arrays["X_train"].shape[1:] != arrays["X_test"].shape[1:]:
        raise DataError(
            f"data file '{path}': X_train samples are {arrays['X_train'].shape[1:]} but X_test samples are "
            f"{arrays['X_test'].shape[1:]}; they must match"
        )

    for key in NPZ_KEYS:
        if arrays[key].dtype.kind not in "biuf":
            raise DataError(f"data file '{path}': {key} has dtype {arrays[key].dtype}; it must be numeric")
        if len(arrays[key]) == 0 and key.endswith("test"):
            raise DataError(f"data file '{path}': {key} is empty; give at least one test sample")
    for key in ("X_train", "X_test"):
        check_finite_inputs(arrays[key], f"data file '{path}' {key}")

    def labels(y: np.ndarray, key: str) -> np.ndarray:
        if y.ndim == 2 and y.shape[1] > 1:
            return np.argmax(y, axis=1).astype(np.int64)
        y = y.reshape(-1)
        if y.dtype.kind == "f" and (not np.all(np.isfinite(y)) or np.any(y != np.round(y))):
            raise DataError(f"data file '{path}': {key} holds non-integer labels; give class indices 0..n-1 (or one-hot rows)")
        if y.size and y.min() < 0:
            raise DataError(f"data file '{path}': {key} holds negative labels (min {y.min()}); give class indices 0..n-1")
        return y.astype(np.int64)

    return Dataset(
        path.stem,
        arrays["X_train"].astype(np.float32),
        labels(arrays["y_train"], "y_train"),
        arrays["X_test"].astype(np.float32),
        labels(arrays["y_test"], "y_test"),
        builtin=False,
    )


SEED_RANGE = (0, 2**32 - 1)  # what numpy's and scikit-learn's seeded generators accept


def check_seed(seed, where: str = "seed") -> int:
    """``seed`` as an int in numpy's range, or a ConfigError naming the range."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise ConfigError(f"{where} {seed!r} is not a seed; give an integer from {SEED_RANGE[0]} to {SEED_RANGE[1]}")
    return int(seed)


def load_dataset(spec: str, seed: int = 0, test_only: bool = False) -> Dataset:
    """``digits``, ``mnist1d`` or a path to an ``.npz`` (``test_only``: its train arrays may be missing)."""
    if spec == "digits":
        return load_digits_dataset(seed=seed)
    if spec == "mnist1d":
        return load_mnist1d_dataset()
    if spec.endswith(".npz") or Path(spec).exists():
        return load_npz_dataset(spec, test_only=test_only)
    raise DataError(f"unknown data '{spec}'; use digits, mnist1d or a path to an .npz file")


def check_finite_inputs(x: np.ndarray, what: str) -> None:
    """Refuse NaN/Inf inputs, naming the first sample and feature (column) that holds one."""
    x = np.asarray(x)
    if x.dtype.kind != "f" or np.all(np.isfinite(x)):
        return
    flat = x.reshape(len(x), -1) if x.ndim > 1 else x.reshape(-1, 1)
    row, col = np.argwhere(~np.isfinite(flat))[0]
    raise DataError(f"{what}: sample {row}, feature (column) {col} is {flat[row, col]}; "
                    "remove or impute non-finite values first")


def check_labels(y: np.ndarray, n_classes: int, what: str) -> None:
    """Labels must be class indices of a model with ``n_classes`` outputs."""
    y = np.asarray(y)
    if y.size == 0:
        return
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= n_classes:
        raise DataError(f"{what}: labels run from {lo} to {hi} but the model has {n_classes} outputs (classes "
                        f"0..{n_classes - 1}); use data made for this model")
