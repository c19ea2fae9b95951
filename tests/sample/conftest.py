from pathlib import Path

import pytest

from registry.sample import FAULT_KINDS, generate

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def default_sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_default")
    return generate(out)


@pytest.fixture(scope="session")
def faulty_sample(tmp_path_factory):
    out = tmp_path_factory.mktemp("sample_faults")
    return generate(out, faults={k: 2 for k in FAULT_KINDS})
