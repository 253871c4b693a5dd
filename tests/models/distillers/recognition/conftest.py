"""Fixtures of the recognition distiller tests (tiny recognizers, a batch)."""
import pytest

from recognition_kd_helpers import make_batch, recognizer, set_epoch


@pytest.fixture
def student_cfg() -> dict:
    return recognizer('mixed_4d')


@pytest.fixture
def teacher_cfg() -> dict:
    return recognizer('conv3d_1a_7x7', cvae=True)


@pytest.fixture
def batch() -> dict:
    return make_batch([0, 1, 2, 3])


@pytest.fixture(autouse=True)
def reset_epoch():
    set_epoch(0)
    yield
    set_epoch(0)
