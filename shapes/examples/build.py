"""Examples build: shapes/examples/**/*.json -> the .fsv encoding and the .md view of each (plus derived JSON).

Run ``python shapes/examples/build.py`` to regenerate, ``--check`` to only report what is stale (exit 1).
The examples also live in the store ``shapes/examples/.fsf`` (``docs/store.md``): every value, and the closure of
every type of ``shapes/*.fsf``, so that each value can be read with no ``.fsf`` file at hand (``fsv decode FILE``
from this folder) and the audit chain walked (``fsv log audit/SignedAuditRecord.3.fsv --via record.prev``).

Layout: ``shapes/examples/<stem>/<RootType>.<label>.json`` is a value of type ``RootType`` of
``shapes/<stem>.fsf`` in the JSON form; next to it go ``<RootType>.<label>.fsv`` and ``<RootType>.<label>.md``.
Most JSON files are written by hand. Three kinds are derived here, so that they cannot lie:

- ``artifacts/*.json`` come from the artifact table in ``fsf/artifacts.py`` that the commands use;
- ``forge-report/ForgeReport.<label>.json`` get their ``plan`` ref from the content id of
  ``forge-plan/ForgePlan.<label>.fsv``;
- ``audit/SignedAuditRecord.<n>.json`` form a chain: each ``prev`` is the real content id of the record before,
  and each signature is a real Ed25519 signature (RFC 8032, computed here in pure Python so that the bytes are the
  same on every machine) made with a PUBLIC EXAMPLE KEY whose secret is in this file. Never trust that key.
  Its public key is ``f59fefbe076a176628a0b3edd5d244fe133e197989d73d5c9f91588f9dc8b697`` (hex); the records'
  ``keyId`` is ``example-`` + the first 16 hex digits of BLAKE3 over it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import blake3

import fsf
from fsf.load import write_atomic

EXAMPLES_DIR = Path(__file__).resolve().parent
SHAPES_DIR = EXAMPLES_DIR.parent
STORE_DIR = EXAMPLES_DIR / ".fsf"

EXAMPLE_KEY_SECRET = blake3.blake3(b"fsf shape library: PUBLIC example audit key, never use it to sign").digest()
"""The Ed25519 secret of the example audit chain. It is public, so its signatures prove nothing."""

AUDIT_CHAIN: tuple[tuple[str, str], ...] = (
    ("DispatchTranscript.edit.json", "2026-11-21T09:41:12Z"),
    ("DispatchTranscript.timeout.json", "2026-11-21T09:52:40.500Z"),
    ("DispatchTranscript.review.json", "2026-11-21T10:14:03Z"),
)
"""The finished dispatches the example audit chain records, in order, with the time each finished."""


@attrs.frozen
class Example:
    """One example value: its schema, root type and JSON file; the .fsv and .md sit next to the JSON."""

    schema_path: Path
    root: str
    json_path: Path

    @property
    def fsv_path(self) -> Path:
        return self.json_path.with_suffix(".fsv")

    @property
    def md_path(self) -> Path:
        return self.json_path.with_suffix(".md")

    @property
    def label(self) -> str:
        return self.json_path.name.split(".", 1)[1].rsplit(".", 1)[0]


def discover(examples_dir: Path = EXAMPLES_DIR) -> list[Example]:
    """Every example under ``examples_dir``, sorted by path."""
    found = []
    for json_path in sorted(examples_dir.glob("*/*.json")):
        root = json_path.name.split(".", 1)[0]
        found.append(Example(examples_dir.parent / f"{json_path.parent.name}.fsf", root, json_path))
    return found


def dump_json(value: Any) -> bytes:
    """The committed layout of an example JSON file."""
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


# --- The FSF/FSV library, through its public API -------------------------------------------------------------


def from_json(schema: fsf.Schema, root: str, data: Any) -> Any:
    """A JSON-form value -> the Python value the codec takes."""
    from fsf.fsv.jsonform import from_json as convert

    return convert(schema, root, data)


def to_json(schema: fsf.Schema, root: str, value: Any) -> Any:
    """A Python value -> its JSON form."""
    from fsf.fsv.jsonform import to_json as convert

    return convert(schema, root, value)


def render(schema: fsf.Schema, data: bytes) -> str:
    """The Markdown view of an FSV value, with the per-type templates that live next to the schemas."""
    return fsf.render_markdown(schema, data)


# --- Derived examples ----------------------------------------------------------------------------------------


def artifact_examples() -> dict[str, Any]:
    """The JSON of the artifact examples, generated from the table the codec uses."""
    from fsf.artifacts import ARTIFACTS

    entries = {a.format: {"format": a.format, "extensions": list(a.extensions), "description": a.description,
                          "canonical": a.canonical, "binary": a.binary, "generated": a.generated,
                          "requiresSchema": a.requires_schema}
               for a in ARTIFACTS}
    return {"ArtifactTable.codec.json": {"artifacts": entries}, "Artifact.fsv-value.json": entries["fsv_value"]}


def audit_chain(schema: fsf.Schema, dispatch_dir: Path) -> dict[str, Any]:
    """The JSON of the audit chain: one signed record per dispatch of AUDIT_CHAIN, each linked to the one before."""
    public = ed25519_public_key(EXAMPLE_KEY_SECRET)
    key_id = "example-" + blake3.blake3(public).hexdigest()[:16]
    chain: dict[str, Any] = {}
    prev: str | None = None
    for seq, (name, at) in enumerate(AUDIT_CHAIN, start=1):
        transcript = json.loads((dispatch_dir / name).read_text(encoding="utf-8"))
        request, output = transcript["request"], transcript["output"]
        record = {
            "seq": seq,
            "at": at,
            "provider": request["model"]["provider"],
            "model": request["model"]["model"],
            "inputHash": blake3.blake3(request["prompt"].encode("utf-8")).hexdigest(),
            "outputHash": blake3.blake3(output["text"].encode("utf-8")).hexdigest(),
            "prev": prev,
        }
        message = schema.encode("AuditRecord", from_json(schema, "AuditRecord", record))
        signed = {"record": record,
                  "signature": base64.b64encode(ed25519_sign(EXAMPLE_KEY_SECRET, message)).decode("ascii"),
                  "keyId": key_id}
        prev = fsf.content_id(schema.encode("SignedAuditRecord", from_json(schema, "SignedAuditRecord", signed)))
        chain[f"SignedAuditRecord.{seq}.json"] = signed
    return chain


# --- The build -----------------------------------------------------------------------------------------------


def outputs(examples_dir: Path = EXAMPLES_DIR) -> dict[Path, bytes]:
    """Every generated file of the examples (derived JSON, .fsv, .md) and the bytes it must hold.

    Reads the hand-written JSON files only; pure otherwise, so tests compare it with the committed tree.
    """
    shapes_dir = examples_dir.parent
    schemas: dict[Path, fsf.Schema] = {}

    def schema_of(path: Path) -> fsf.Schema:
        if path not in schemas:
            schemas[path] = fsf.load_schema(path)
        return schemas[path]

    derived: dict[Path, Any] = {}
    for name, data in artifact_examples().items():
        derived[examples_dir / "artifacts" / name] = data
    for name, data in audit_chain(schema_of(shapes_dir / "audit.fsf"), examples_dir / "dispatch").items():
        derived[examples_dir / "audit" / name] = data

    result: dict[Path, bytes] = {}
    plan_ids: dict[str, str] = {}
    examples = sorted(_with_derived(discover(examples_dir), derived, shapes_dir),
                      key=lambda e: (e.root == "ForgeReport", str(e.json_path)))
    for example in examples:
        schema = schema_of(example.schema_path)
        if example.json_path in derived:
            data = derived[example.json_path]
        else:
            data = json.loads(example.json_path.read_text(encoding="utf-8"))
        if example.root == "ForgeReport":
            data = {**data, "plan": plan_ids[example.label]}
        value = from_json(schema, example.root, data)
        if example.json_path in derived or example.root == "ForgeReport":
            result[example.json_path] = dump_json(to_json(schema, example.root, value))
        encoded = schema.encode(example.root, value)
        if example.root == "ForgePlan":
            plan_ids[example.label] = fsf.content_id(encoded)
        result[example.fsv_path] = encoded
        result[example.md_path] = render(schema, encoded).encode("utf-8")
    return result


def _with_derived(found: list[Example], derived: dict[Path, Any], shapes_dir: Path) -> Iterator[Example]:
    """The discovered examples plus derived ones not written to disk yet."""
    seen = {e.json_path for e in found}
    yield from found
    for path in sorted(derived):
        if path not in seen:
            yield Example(shapes_dir / f"{path.parent.name}.fsf", path.name.split(".", 1)[0], path)


def stale(expected: dict[Path, bytes]) -> list[Path]:
    """The generated files whose committed bytes differ from ``expected`` (or that are missing)."""
    return [path for path, data in sorted(expected.items()) if _differs(path, data)]


def _differs(path: Path, data: bytes) -> bool:
    """Whether the committed ``path`` differs from ``data``: a view as the drift check of ``fsv render --check``
    compares it (the same library function), any other file byte for byte."""
    if not path.is_file():
        return True
    if path.suffix == ".md":
        from fsf.views.drift import compare_view

        return compare_view(path, data.decode("utf-8")).kind != "ok"
    return path.read_bytes() != data


def main(argv: list[str], echo: Callable[[str], None] = print) -> int:
    """Regenerate the examples (or with ``--check`` only list stale files); returns the exit code."""
    if argv not in ([], ["--check"]):
        echo("usage: python shapes/examples/build.py [--check]")
        return 2
    try:
        expected = outputs()
    except fsf.FsfError as err:
        echo(f"error: {err}")
        return 1
    todo = stale(expected)
    for path in todo:
        shown = path.relative_to(SHAPES_DIR.parent)
        if argv:
            echo(f"stale: {shown}")
        else:
            write_atomic(path, expected[path])
            echo(f"wrote {shown}")
    try:
        missing = store_stale(expected, STORE_DIR, write=not argv)
    except fsf.FsfError as err:
        echo(f"error: {err}")
        return 1
    for line in missing:
        echo(f"{'stale' if argv else 'stored'}: {line}")
    return 1 if argv and (todo or missing) else 0


def store_stale(expected: dict[Path, bytes], store_dir: Path, *, write: bool) -> list[str]:
    """What the examples' store lacks (every example value, and every type of ``shapes/*.fsf``) or any problem
    ``fsf store verify`` finds there; with ``write``, put what it lacks first (values in the order of
    ``expected``, so that a referenced value is stored before the ones that name it)."""
    from fsf.store import find_store, init_store

    store = init_store(store_dir) if write else find_store(store_dir) if store_dir.is_dir() else None
    values = [data for path, data in expected.items() if path.suffix == ".fsv"]
    schemas = [fsf.load_schema(path) for path in sorted(store_dir.parent.parent.glob("*.fsf"))]
    out: list[str] = []
    for schema in schemas:
        for name in schema.shapes:
            if store is None or not store.has_schema(schema.id(name)):
                out.append(f"type {name} {schema.id(name)}")
                if store is not None and write:
                    store.add_schema(schema, [name])
    for data in values:
        if store is None or not store.has(fsf.content_id(data)):
            out.append(f"value {fsf.content_id(data)}")
            if store is not None and write:
                store.put(data)
    if store is not None:
        out += [f"problem {p.key}: {p.message} [{p.code}]" for p in store.verify().problems]
    return out


# --- Ed25519 (RFC 8032 section 5.1), pure Python: deterministic, so the example bytes never depend on a library ---

_P = 2**255 - 19
_Q = 2**252 + 27742317777372353535851937790883648493
_D = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1 = pow(2, (_P - 1) // 4, _P)
_Point = tuple[int, int, int, int]


def _recover_x(y: int, sign: int) -> int:
    xx = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P)
    x = pow(xx, (_P + 3) // 8, _P)
    if (x * x - xx) % _P:
        x = x * _SQRT_M1 % _P
    if x & 1 != sign:
        x = _P - x
    return x


_BASE_Y = 4 * pow(5, _P - 2, _P) % _P
_BASE_X = _recover_x(_BASE_Y, 0)
_BASE: _Point = (_BASE_X, _BASE_Y, 1, _BASE_X * _BASE_Y % _P)


def _add(p: _Point, q: _Point) -> _Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(s: int, p: _Point) -> _Point:
    acc: _Point = (0, 1, 1, 0)
    while s:
        if s & 1:
            acc = _add(acc, p)
        p = _add(p, p)
        s >>= 1
    return acc


def _compress(p: _Point) -> bytes:
    zinv = pow(p[2], _P - 2, _P)
    x, y = p[0] * zinv % _P, p[1] * zinv % _P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _expand(secret: bytes) -> tuple[int, bytes]:
    h = hashlib.sha512(secret).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a, h[32:]


def _hash_int(*parts: bytes) -> int:
    return int.from_bytes(hashlib.sha512(b"".join(parts)).digest(), "little") % _Q


def ed25519_public_key(secret: bytes) -> bytes:
    """The 32-byte public key of a 32-byte Ed25519 secret."""
    return _compress(_multiply(_expand(secret)[0], _BASE))


def ed25519_sign(secret: bytes, message: bytes) -> bytes:
    """The 64-byte Ed25519 signature of ``message`` (deterministic, as RFC 8032 defines it)."""
    a, prefix = _expand(secret)
    public = _compress(_multiply(a, _BASE))
    r = _hash_int(prefix, message)
    big_r = _compress(_multiply(r, _BASE))
    s = (r + _hash_int(big_r, public, message) * a) % _Q
    return big_r + s.to_bytes(32, "little")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
