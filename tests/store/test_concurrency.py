"""Many writers on one store: threads, spawned processes, and writers killed with SIGKILL mid-write. Objects are
write-once and complete when visible; a killed writer leaves at most a temp file, which the next writer removes
unless a live writer still holds it."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import random
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

import fsf
from fsf.fsv.header import content_id
from fsf.store import Store, init_store, open_store
from fsf.store.backend import TMP

SOURCE = "shape Item { n: u64, who: str, pad: bytes }"
SCHEMA = fsf.compile_source(SOURCE)


def item(n: int, who: str, size: int = 256) -> bytes:
    return SCHEMA.encode("Item", {"n": n, "who": who, "pad": bytes([n % 251]) * size})


def workload(worker: int, shared: int = 30, own: int = 30) -> list[bytes]:
    """The values one writer puts: ``shared`` values every writer puts too, then ``own`` of its own; the shared
    ones in an order of this writer's, so that writers meet on the same names at different moments."""
    same = [item(n, "shared") for n in range(shared)]
    random.Random(worker).shuffle(same)
    return same + [item(n, f"w{worker}") for n in range(own)]


def all_values(workers: int) -> set[str]:
    return {content_id(d) for w in range(workers) for d in workload(w)}


def assert_sound(where: Path | str, expected: set[str]) -> None:
    store = open_store(where)
    assert set(store) == expected
    for ident in expected:
        assert content_id(store.get(ident)) == ident
    report = store.verify()
    assert report.problems == ()
    assert (report.values, report.types, report.leftovers) == (len(expected), 1, ())


def test_threads_putting_the_same_and_different_values(tmp_path: Path) -> None:
    shared = init_store(tmp_path / ".fsf")
    workers = 8
    start = threading.Barrier(workers)
    errors: list[str] = []

    def run(worker: int) -> None:
        try:
            # half the threads share one Store object, the others open their own
            store = shared if worker % 2 else open_store(tmp_path / ".fsf")
            start.wait()
            for data in workload(worker):
                ident = store.put(data, SCHEMA)
                assert store.get(ident) == data
        except BaseException:
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=run, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert_sound(tmp_path / ".fsf", all_values(workers))


def _put_in_process(where: str, worker: int) -> list[str]:
    """A spawned writer: puts its workload, checking each value can be read as soon as its put returns; returns
    the failures as text (a StoreError does not survive pickling)."""
    try:
        schema = fsf.compile_source(SOURCE)
        store = open_store(where)
        for data in workload(worker):
            ident = store.put(data, schema)
            assert ident == content_id(data)
            assert store.get(ident) == data, ident
            assert open_store(where).get(ident) == data, ident
        return []
    except BaseException:
        return [traceback.format_exc()]


def test_spawned_processes_putting_the_same_and_different_values(tmp_path: Path) -> None:
    init_store(tmp_path / ".fsf")
    workers = 4
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        failures = pool.starmap(_put_in_process, [(str(tmp_path / ".fsf"), w) for w in range(workers)])
    assert failures == [[]] * workers
    assert_sound(tmp_path / ".fsf", all_values(workers))


_WRITER = """
import sys
import fsf
from fsf.store import open_store
where, seed = sys.argv[1], int(sys.argv[2])
schema = fsf.compile_source(sys.argv[3])
store = open_store(where)
print("ready", flush=True)
for n in range(100_000):
    who = "shared" if n % 3 == 0 else f"w{seed}"  # writers meet on a third of the names
    store.put(schema.encode("Item", {"n": n, "who": who, "pad": bytes([n % 251]) * 4096}), schema)
"""


def test_writers_killed_mid_write_leave_only_complete_objects(tmp_path: Path) -> None:
    where = tmp_path / ".fsf"
    init_store(where)
    rng = random.Random(20261122)
    env = {k: v for k, v in os.environ.items() if k != "FSF_STORE"}
    seed = 0
    for _ in range(5):
        writers = []
        try:
            for _ in range(3):
                seed += 1
                writers.append(subprocess.Popen([sys.executable, "-c", _WRITER, str(where), str(seed), SOURCE],
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
            for w in writers:
                line = w.stdout.readline() if w.stdout else ""
                assert line == "ready\n", w.stderr.read() if w.stderr else ""
            for w in writers:
                time.sleep(rng.uniform(0.0, 0.2))
                w.send_signal(signal.SIGKILL)
        finally:
            for w in writers:
                if w.poll() is None:
                    w.kill()
                w.wait()
                for stream in (w.stdout, w.stderr):
                    if stream:
                        stream.close()
        assert [w.returncode for w in writers] == [-signal.SIGKILL] * 3

    # A writer killed for good: its half-written temp file, unlocked.
    abandoned = where / TMP / "4242-0123456789abcdef.tmp"
    abandoned.write_bytes(item(1, "half")[:20])

    store = open_store(where)
    report = store.verify()
    assert report.problems == ()  # every object present is complete: it hashes to its name and decodes
    assert report.types == 1 and report.values == len(list(store)) > 0
    assert f"{TMP}/{abandoned.name}" in report.leftovers  # a note, not a problem
    for ident in store:
        value = store.schema(SCHEMA.id("Item")).decode(store.get(ident))
        assert value["pad"] == bytes([value["n"] % 251]) * 4096

    fresh = open_store(where)
    fresh.put(item(0, "after the crash"), SCHEMA)
    assert fresh.verify().leftovers == ()
    assert not abandoned.exists()


def test_clean_keeps_a_temp_file_a_live_writer_holds(tmp_path: Path) -> None:
    store = init_store(tmp_path / ".fsf")
    held = tmp_path / ".fsf" / TMP / "1-held.tmp"
    fd = os.open(held, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, b"in progress")
        dead = tmp_path / ".fsf" / TMP / "2-dead.tmp"
        dead.write_bytes(b"abandoned")
        assert store.backend.clean() == 1
        assert held.exists() and not dead.exists()
        assert Store(store.backend).put(item(7, "x"), SCHEMA) == content_id(item(7, "x"))  # a put cleans too
        assert held.exists()
        assert store.verify().leftovers == (f"{TMP}/{held.name}",)
        assert store.verify().ok
    finally:
        os.close(fd)  # the writer is gone: its lock with it
    assert store.backend.clean() == 1
    assert store.verify().leftovers == ()


def test_a_cleaner_racing_writers_never_breaks_a_write(tmp_path: Path) -> None:
    # clean() may catch a temp file in the moment between its creation and its lock: the writer must notice
    # (its link fails) and write again, never leave its object missing.
    store = init_store(tmp_path / ".fsf")
    workers = 2
    stop = threading.Event()
    errors: list[str] = []

    def clean() -> None:
        while not stop.is_set():
            store.backend.clean()

    def write(worker: int) -> None:
        try:
            mine = Store(store.backend)
            for data in workload(worker, shared=0, own=150):
                assert mine.get(mine.put(data, SCHEMA)) == data
        except BaseException:
            errors.append(traceback.format_exc())

    cleaner = threading.Thread(target=clean)
    cleaner.start()
    try:
        threads = [threading.Thread(target=write, args=(w,)) for w in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        stop.set()
        cleaner.join()
    assert errors == []
    assert_sound(tmp_path / ".fsf", {content_id(d) for w in range(workers) for d in workload(w, shared=0, own=150)})
