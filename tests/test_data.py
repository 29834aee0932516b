import numpy as np
import pytest

from hcp_fpga.data import load_dataset
from hcp_fpga.errors import DataError


@pytest.mark.slow  # builds both data sets (6 s); the digits csim test loads digits in make test
def test_digits_and_mnist1d_are_offline_and_shaped():
    d = load_dataset("digits")
    assert d.x_train.shape[1:] == (64,) and len(d.x_train) + len(d.x_test) == 1797
    assert d.n_classes == 10 and 0.0 <= d.x_train.min() and d.x_train.max() <= 1.0
    assert d.for_model((8, 8, 1)).x_test.shape[1:] == (8, 8, 1)
    m = load_dataset("mnist1d")
    assert m.x_train.shape == (4000, 40) and m.x_test.shape == (1000, 40)
    assert np.array_equal(m.y_test, load_dataset("mnist1d").y_test)  # deterministic


def test_npz_round_trip_one_hot_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 20)
    np.savez(tmp_path / "ok.npz", X_train=rng.random((20, 5)), y_train=np.eye(3)[y], X_test=rng.random((4, 5)), y_test=y[:4])
    d = load_dataset(str(tmp_path / "ok.npz"))
    assert np.array_equal(d.y_train, y) and d.sample_shape == (5,)
    assert d.for_model((1, 5)).x_test.shape == (4, 1, 5)  # only axes of length 1 differ: unambiguous
    np.savez(tmp_path / "six.npz", X_train=rng.random((20, 6)), y_train=y, X_test=rng.random((4, 6)), y_test=y[:4])
    with pytest.raises(DataError, match=r"samples of shape \(6,\) but the model expects \(2, 3\); reshape"):
        load_dataset(str(tmp_path / "six.npz")).for_model((2, 3))  # row- or column-major? never guessed
    np.savez(tmp_path / "missing.npz", X_train=rng.random((2, 5)))
    with pytest.raises(DataError, match="lacks y_train, X_test, y_test"):
        load_dataset(str(tmp_path / "missing.npz"))
    np.savez(tmp_path / "rows.npz", X_train=rng.random((3, 5)), y_train=y[:2], X_test=rng.random((4, 5)), y_test=y[:4])
    with pytest.raises(DataError, match="X_train has 3 rows but y_train has 2"):
        load_dataset(str(tmp_path / "rows.npz"))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DataError, match="cannot be read"):
        load_dataset(str(tmp_path / "junk.npz"))
    with pytest.raises(DataError, match="unknown data 'cifar'"):
        load_dataset("cifar")


def test_builtin_data_of_the_wrong_size_is_refused():
    with pytest.raises(DataError, match=r"digits.*\(64,\).*expects \(40,\)"):
        load_dataset("digits").for_model((40,))
