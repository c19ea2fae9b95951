"""Sample data generator: site workbooks, the site master and the truth they were drawn from.

``generate(out_dir, scale=1, seed=20170731, faults=None)`` writes the registry of the
paper (docs/sample-data.md says how every figure is reached); ``FAULT_KINDS`` lists the
faults that can be planted for tests.
"""
from .faults import FAULT_KINDS
from .generate import SampleSummary, generate

__all__ = ["FAULT_KINDS", "SampleSummary", "generate"]
