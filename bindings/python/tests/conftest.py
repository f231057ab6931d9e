"""Shared fixtures: paths into the source tree, a small context, the NAS-Bench-201 space."""
import os

import pytest

import libnas

SOURCE_ROOT = os.environ.get("NAS_SOURCE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"


def source(*parts):
    return os.path.join(SOURCE_ROOT, *parts)


@pytest.fixture
def ctx():
    c = libnas.Context(threads=int(os.environ.get("NAS_TEST_THREADS", "1")), seed=7)
    yield c
    c.close()


@pytest.fixture
def nb201(ctx):
    return libnas.Space.load(source("spaces", "nas-bench-201.yaml"), ctx)
