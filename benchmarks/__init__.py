"""Benchmarks: FSV against its peers (msgpack floor, msgspec, pydantic, fastavro, json), run with pytest-benchmark.

Run ``python -m pytest benchmarks --benchmark-enable`` for the timings, ``python -m benchmarks.report`` for
``benchmarks/RESULTS.md``. The root ``pytest`` run never collects this folder.
"""
