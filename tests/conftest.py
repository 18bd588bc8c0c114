"""Fixtures shared by the tests of every stage."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import fsf
from tests.support.codec_paths import AVAILABLE, CodecPath, strict
from tests.support.golden import Golden


@pytest.fixture(autouse=True)
def _no_ambient_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees a store it did not name: ``FSF_STORE`` from the environment is cleared (tests that find a
    ``.fsf`` folder make their own under ``tmp_path``)."""
    monkeypatch.delenv("FSF_STORE", raising=False)


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Golden:
    """Golden-file checks for this test: ``golden.text(path, got)``, ``golden.json(path, got, dump)``; the one
    update flag is ``FSF_UPDATE_GOLDEN=1`` (write, then assert)."""
    return Golden(request.node.nodeid)


@pytest.fixture(params=AVAILABLE)
def codec_path(request: pytest.FixtureRequest) -> CodecPath:
    """Run this test once per codec execution path: ``codec_path.compile(text)`` / ``.load(path)`` /
    ``.use(schema)`` give schemas whose codec runs that path (then the reference path, which decides)."""
    return CodecPath(str(request.param))


@pytest.fixture
def no_fallback() -> Callable[[fsf.Schema], fsf.Schema]:
    """``no_fallback(schema)``: that schema with a codec on which any fallback from a fast path raises, for tests
    that claim a fast path serves (valid vectors, round trips); refusals of invalid input are not guarded."""
    return strict
