"""Registers proportional to change: a render that rewrites only the rows that changed.

A full render reads every row from the store and encodes every cell; with 50,000
rows of history that is seconds per batch, although a batch adds or changes a
handful of rows. So, for a register whose rows can be read by key
(``RegisterDef.keyed_rows``), each render also leaves a cache beside the store
(``.officeflow/register-cache/<name>.bin``) holding, per block of ``BLOCK_ROWS``
rows, the rows' values and their SpreadsheetML already deflated, plus what the
rest of the workbook depends on: the columns' width figures (registers.layout),
the totals and the 汇总 tallies (registers.summary), all kept as counts so a row
can be counted out and in again. The next render reads only the rows its dirty
marks name (``render.mark_dirty(..., rows=…)``), counts them out (old values) and
in (new values), re-encodes the blocks they fall in, and builds the workbook:
XlsxWriter makes the frame (styles, table and totals, conditional format, print
setup, 汇总) exactly as for a full render, and the data sheet's deflate stream is
the frame's head, the cached blocks and the frame's tail, each compressed apart and
ending on a full flush (byte-aligned, no shared window), so they join into one
valid stream; the CRC is combined from the pieces' CRCs.

The store stays the truth and the cache is disposable. A full rebuild is made
instead whenever the cache is missing, damaged (checksum), foreign (another store,
register definition, code, time zone or holiday calendar), not the one
the previous claim wrote (``generation``: a render killed between its claim and its
cache), when a mark named no rows, when a row would go anywhere but in place or at
the end, or when the number of rows or the largest key in the store disagrees. A
width change re-encodes every block from the cached values. A cache of an earlier day
(已用工作日 and 是否超时 of open cases move with the day) is built on by reading again,
besides the marked rows, the rows that depended on its day and those that depend on
today (``RegisterDef.day_keys``: the open cases), unless there are more than
``MAX_CHANGED`` of them. The output equals a full rebuild cell for cell
(tests/test_registers_incremental.py).
"""

from __future__ import annotations

import bisect
import hashlib
import io
import pickle
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path
from typing import Collection

from xlsxwriter import __version__ as XLSXWRITER_VERSION

from automation.fsutil import atomic_write_bytes
from automation.record.registers import layout as layout_mod
from automation.record.registers import sheetxml, summary, writer
from automation.record.registers.definitions import RegisterDef, RenderContext, weekdays_between
from automation.record.registers.layout import ColumnLayout, layout_of_stats, row_heights
from automation.record.registers.sheetxml import encode_rows
from automation.record.registers.summary import blocks_of, tally_row
from automation.record.registers.writer import FIRST_DATA_ROW, HEADER_ROW, REGISTER_PART, atomic_save

BLOCK_ROWS = 64
MAGIC = b"OfficeFlow register cache 3\n"
CACHE_FOLDER = "register-cache"
# More changed rows than this in one render: read them all (a full rebuild costs about the same).
MAX_CHANGED = 20_000
_ALLOWED = {("decimal", "Decimal"): Decimal, ("datetime", "date"): date, ("datetime", "datetime"): datetime}


def _code_key() -> str:
    """The modules the cached bytes depend on: a cache from other code is foreign."""
    digest = hashlib.blake2b(digest_size=16)
    for module in (layout_mod, sheetxml, summary, writer):
        digest.update(Path(module.__file__).read_bytes())
    digest.update(Path(__file__).read_bytes())
    digest.update(XLSXWRITER_VERSION.encode())
    return digest.hexdigest()


_CODE = _code_key()


def _chinese_calendar_version() -> str:
    try:
        return metadata.version("chinesecalendar")
    except metadata.PackageNotFoundError:
        return ""


_CALENDAR_DATA = _chinese_calendar_version()


def calendar_key(workdays_between) -> tuple | None:
    """What 已用工作日 depends on besides the dates; None when it cannot be told (no cache then)."""
    if workdays_between is weekdays_between:
        return ("weekdays",)
    owner = getattr(workdays_between, "__self__", None)
    extra = getattr(owner, "extra", None)
    if owner is None or not isinstance(extra, dict) or getattr(workdays_between, "__name__", "") != "workdays_between":
        return None
    kind = type(owner)
    return (f"{kind.__module__}.{kind.__qualname__}", _CALENDAR_DATA, tuple(sorted(extra.items())))


def identity(register: RegisterDef, ctx: RenderContext) -> tuple | None:
    """What a cache must have been built for. The store is told by the claim's generation, which starts
    at a random number in each store (render._claim): a copied workspace keeps its cache, another
    store's cache is refused. The day is kept beside it (``Cache.day``): a cache of another day is
    built on by re-reading the rows that depend on the day (``RegisterDef.day_keys``)."""
    calendar = calendar_key(ctx.workdays_between)
    if calendar is None:
        return None
    definition = repr((register.name, register.table_name, register.columns, register.totals, register.highlight,
                       register.groupings, register.measure))
    return (_CODE, BLOCK_ROWS, definition, str(ctx.tz), calendar)


def cache_path(state: Path, name: str) -> Path:
    return Path(state) / CACHE_FOLDER / f"{name}.bin"


# --- the cache ----------------------------------------------------------------------

class _Unpickler(pickle.Unpickler):
    """Only the value types of a register's rows: a cache is data, never code."""

    def find_class(self, module, name):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"{module}.{name} is not a register value") from None


def _loads(data: bytes):
    return _Unpickler(io.BytesIO(data)).load()


def _dumps(value) -> bytes:
    return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


@dataclass
class Block:
    values: bytes  # the rows (pickled list of tuples)
    deflated: bytes  # their <row> elements, raw deflate ending on a full flush
    crc: int
    size: int  # uncompressed bytes
    # x^(8·size) mod the CRC polynomial: what joining this block's CRC onto what precedes it multiplies
    # by. Kept so that a render joins each cached block in one product, not the ~10 of crc32_combine.
    shift: int | None = None

    def shifted(self) -> int:
        if self.shift is None:
            self.shift = crc32_shift(self.size)
        return self.shift


@dataclass
class Cache:
    identity: tuple
    generation: int
    keys: list[int]
    blocks: list[Block]
    stats: list  # registers.layout column stats
    totals: dict[str, Decimal]
    tallies: list  # registers.summary tallies
    layouts: list[ColumnLayout]
    styles: tuple
    day: str = ""  # the day the rows were read on (ISO)
    day_keys: list[int] = field(default_factory=list)  # rows that depended on that day (RegisterDef.day_keys)
    # per block, the digest of its rows' raw values and each row's (RegisterDef.sources)
    sources: list[tuple[bytes, bytes]] = field(default_factory=list)

    def to_bytes(self) -> bytes:
        payload = _dumps({
            "identity": self.identity, "generation": self.generation, "keys": self.keys,
            "blocks": [(b.values, b.deflated, b.crc, b.size, b.shifted()) for b in self.blocks], "stats": self.stats,
            "totals": self.totals, "tallies": self.tallies,
            "layouts": [(l.width, l.wrap) for l in self.layouts], "styles": self.styles,
            "day": self.day, "day_keys": self.day_keys, "sources": self.sources})
        return MAGIC + hashlib.blake2b(payload, digest_size=32).digest() + payload


def load(path: Path, expected: tuple, generation: int) -> Cache | None:
    """The cache at ``path`` if it is whole, ours and the one the previous render wrote; else None."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    head = len(MAGIC) + 32
    if not data.startswith(MAGIC) or len(data) < head:
        return None
    payload = memoryview(data)[head:]
    if hashlib.blake2b(payload, digest_size=32).digest() != data[len(MAGIC):head]:
        return None
    try:
        d = _loads(payload)
        cache = Cache(d["identity"], d["generation"], d["keys"], [Block(*b) for b in d["blocks"]], d["stats"],
                      d["totals"], d["tallies"], [ColumnLayout(w, wrap) for w, wrap in d["layouts"]], d["styles"],
                      d["day"], d["day_keys"], d["sources"])
    except (pickle.UnpicklingError, KeyError, TypeError, ValueError, EOFError, AttributeError):
        return None
    if cache.identity != expected or cache.generation != generation:
        return None
    return cache


def discard(path: Path) -> None:
    Path(path).unlink(missing_ok=True)


# --- what to write ------------------------------------------------------------------

@dataclass
class Plan:
    """A register's rows as blocks: cached ones kept, ``touched`` ones (block → rows) to encode."""
    register: RegisterDef
    keys: list[int]
    blocks: list[Block | None]
    touched: dict[int, list[tuple]]
    stats: list
    totals: dict[str, Decimal]
    tallies: list
    styles: tuple = ()
    incremental: bool = False
    changed: int = 0  # rows read from the store
    layouts: list[ColumnLayout] = field(default_factory=list)
    # block → the offsets in it of rows changed or added; a touched block not named here is encoded whole
    spliced: dict[int, set[int]] = field(default_factory=dict)
    day: str = ""  # the day the rows are read on
    day_keys: list[int] = field(default_factory=list)  # the rows that depend on it (kept in the cache)
    sources: list[tuple[bytes, bytes]] = field(default_factory=list)  # kept in the cache (Cache.sources)

    def __len__(self) -> int:
        return len(self.keys)


def _count(plan: Plan, row: tuple, sign: int) -> None:
    register = plan.register
    layout_mod.count(plan.stats, register, row, sign)
    tally_row(plan.tallies, register, row, sign)
    for header in register.totals:
        value = row[register.index(header)]
        if value is not None:
            plan.totals[header] = plan.totals[header] + Decimal(value) if sign > 0 else plan.totals[header] - Decimal(value)


def _count_change(plan: Plan, old: tuple, new: tuple) -> None:
    """``_count(old, -1)`` then ``_count(new, 1)``, for the columns that changed only (a new day changes
    one column of an open case's row)."""
    register = plan.register
    layout_mod.count_change(plan.stats, register, old, new, summary.same_value)
    summary.tally_change(plan.tallies, register, old, new)
    for header in register.totals:
        at = register.index(header)
        a, b = old[at], new[at]
        if summary.same_value(a, b):
            continue
        if a is not None:
            plan.totals[header] = plan.totals[header] - Decimal(a)
        if b is not None:
            plan.totals[header] = plan.totals[header] + Decimal(b)


def full_plan(register: RegisterDef, keyed: list[tuple[int, tuple]]) -> Plan:
    rows = [row for _, row in keyed]
    plan = Plan(register, [key for key, _ in keyed], [], {}, layout_mod.column_stats(register, rows),
                writer.totals_of(register, rows), summary.tallies_of(register, rows), changed=len(keyed))
    for at in range(0, len(rows), BLOCK_ROWS):
        plan.blocks.append(None)
        plan.touched[at // BLOCK_ROWS] = rows[at:at + BLOCK_ROWS]
    plan.layouts = layout_of_stats(register, plan.stats)
    return plan


def _block_rows(plan: Plan, b: int) -> list[tuple]:
    rows = plan.touched.get(b)
    if rows is None:
        block = plan.blocks[b] if b < len(plan.blocks) else None
        rows = plan.touched[b] = _loads(block.values) if block is not None else []
        if b >= len(plan.blocks):
            plan.blocks.append(None)
    return rows


def incremental_plan(cache: Cache, register: RegisterDef, changed: list[tuple[int, tuple]],
                     extent: tuple[int, int | None]) -> Plan | None:
    """The cache with ``changed`` rows put in place or appended; None when only a full rebuild will do."""
    plan = Plan(register, cache.keys, list(cache.blocks), {}, cache.stats, cache.totals, cache.tallies,
                styles=cache.styles, incremental=True, changed=len(changed))
    keys = plan.keys  # ascending (rows are ordered by key): a row's place is found by bisection
    for key, row in sorted(changed, key=lambda item: item[0]):
        at = bisect.bisect_left(keys, key)
        if at == len(keys) or keys[at] != key:
            if at < len(keys):
                return None  # a row that would go between others: its place is not kept
            keys.append(key)
            _block_rows(plan, at // BLOCK_ROWS).append(row)
        else:
            rows = _block_rows(plan, at // BLOCK_ROWS)
            old = rows[at % BLOCK_ROWS]
            if old == row:
                continue
            _count_change(plan, old, row)
            rows[at % BLOCK_ROWS] = row
            plan.spliced.setdefault(at // BLOCK_ROWS, set()).add(at % BLOCK_ROWS)
            continue
        plan.spliced.setdefault(at // BLOCK_ROWS, set()).add(at % BLOCK_ROWS)
        _count(plan, row, 1)
    count, biggest = extent
    if count != len(plan.keys) or biggest != (plan.keys[-1] if plan.keys else None):
        return None  # rows came or went without a mark naming them
    plan.layouts = layout_of_stats(register, plan.stats)
    if _cell_layout(plan.layouts) != _cell_layout(cache.layouts):
        restyled = [i for i, (a, b) in enumerate(zip(cache.layouts, plan.layouts)) if a.wrap != b.wrap]
        if not restyled:
            _respace(plan, cache.layouts)  # a wrapping column changed width: only rows whose height moves change
        else:
            _rewrap(plan, cache.layouts, restyled)  # a column began or stopped wrapping
    return plan


def _respace(plan: Plan, before: list[ColumnLayout]) -> None:
    """Name for re-encoding the rows whose height differs between the cached layout and the plan's:
    a row's XML depends on the widths only through its height (``_cell_layout``), so the others
    stay as cached. (A closed case that narrows another column widens the wrapping 回执 column of
    我的申请: a handful of rows change height, not the ten thousand.)"""
    _reencode_moved(plan, before, ())


def _rewrap(plan: Plan, before: list[ColumnLayout], columns: list[int]) -> None:
    """Name for re-encoding, besides the rows whose height moves, the rows with a value in a column that
    began or stopped wrapping: only a cell that is written carries the column's style (an empty one is
    left out of the row), so the other rows' XML stays as cached. (A burst's first open cases make the
    回执 column of 我的申请 wrap while the ten thousand closed rows before them hold no 回执.)"""
    _reencode_moved(plan, before, columns)


def _reencode_moved(plan: Plan, before: list[ColumnLayout], restyled) -> None:
    for b in range(len(plan.blocks)):
        loaded = b in plan.touched
        rows = _block_rows(plan, b)
        old, new = row_heights(rows, before), row_heights(rows, plan.layouts)
        moved = {o for o in old.keys() | new.keys() if old.get(o) != new.get(o)}
        for i in restyled:
            moved.update(o for o, row in enumerate(rows) if row[i] is not None and row[i] != "")
        if moved:
            plan.spliced.setdefault(b, set()).update(moved)
        elif not loaded:
            del plan.touched[b]  # kept as cached: only touched blocks are encoded


def _cell_layout(layouts: list[ColumnLayout]) -> tuple:
    """What the rows' XML depends on: which text columns wrap (their cells' style) and how wide
    (the rows' heights). A column merely wider or narrower changes only the frame's widths."""
    return tuple((l.wrap, l.width if l.wrap else None) for l in layouts)


def _encode_all(plan: Plan) -> None:
    for b in range(len(plan.blocks)):
        _block_rows(plan, b)
    plan.spliced.clear()


def read_plan(conn, ctx: RenderContext, register: RegisterDef, cache: Cache | None,
              keys: Collection[int] | None) -> Plan:
    """Inside the claim's transaction: the incremental plan when it applies, else a full one.

    On another day than the cache's, the rows that depended on the cache's day and those that
    depend on today are read again, with the marked ones. A register whose writers name its rows
    (``RegisterDef.sources``, registers.row_marks) has every row's raw values compared as well when
    the names cannot be relied on (no keys, no cache) and on the first render of a day,
    so that a row a writer failed to name is not stale past the day."""
    day = ctx.today.isoformat()
    sources = None
    same_day = cache is not None and cache.day == day
    if register.sources is not None:
        if keys is None or not same_day:
            sources, changed = source_digests(register.sources(conn), cache)
            keys = None if changed is None else {*(keys or ()), *changed}
        else:
            # The digests of the last comparison are kept: rows named since are read again at the
            # next one (unchanged then), a row changed unnamed is found by it.
            sources = cache.sources
    # On the cache's day, the rows depending on the day are the cache's, less the changed rows, plus
    # those of the changed rows that do (RegisterDef.day_keys_among): no query over every row.
    by_change = same_day and keys is not None and register.day_keys is not None and register.day_keys_among is not None
    day_keys = None
    if register.day_keys is not None and not by_change:
        day_keys = sorted(register.day_keys(conn, ctx))
    if cache is not None and keys is not None and not same_day:
        keys = None if day_keys is None else {*keys, *cache.day_keys, *day_keys}
    plan = None
    if cache is not None and keys is not None and len(keys) <= MAX_CHANGED:
        plan = incremental_plan(cache, register, register.keyed_rows(conn, ctx, keys) if keys else [],
                                register.extent(conn))
    if plan is None:
        plan = full_plan(register, register.keyed_rows(conn, ctx, None))
        if by_change:
            day_keys = sorted(register.day_keys(conn, ctx))
        if sources is not None and cache is not None and sources is cache.sources:
            sources, _ = source_digests(register.sources(conn), None)  # the rebuild's own rows
    elif by_change:
        among = register.day_keys_among(conn, ctx, keys) if keys else set()
        day_keys = sorted(set(cache.day_keys).difference(keys) | among)
    plan.day, plan.day_keys = day, day_keys or []
    plan.sources = sources or []
    return plan


def source_digests(sources: list[tuple], cache: Cache | None) -> tuple[list[tuple[bytes, bytes]], list[int] | None]:
    """Per block, the digest of its rows' raw values and each row's own (8 bytes a row); and the
    keys of the rows whose digest is not the cache's (None: no cache to compare with). A block's
    rows are told apart only where the block's digest differs. Rows that came or went shift the
    rows after them, which are then named too (and the plan finds that only a full rebuild will do)."""
    if cache is None:
        return [_source_block(sources[at:at + BLOCK_ROWS]) for at in range(0, len(sources), BLOCK_ROWS)], None
    digests, changed, known = [], [], cache.sources
    for b, at in enumerate(range(0, len(sources), BLOCK_ROWS)):
        rows = sources[at:at + BLOCK_ROWS]
        digest = hashlib.blake2b(_dumps(rows), digest_size=16).digest()
        if b < len(known) and known[b][0] == digest:
            digests.append(known[b])
            continue
        block = digest, _row_digests(rows)
        digests.append(block)
        old = known[b][1] if b < len(known) else b""
        changed.extend(row[0] for i, row in enumerate(rows) if block[1][8 * i:8 * i + 8] != old[8 * i:8 * i + 8])
    return digests, changed


def _source_block(rows: list[tuple]) -> tuple[bytes, bytes]:
    return hashlib.blake2b(_dumps(rows), digest_size=16).digest(), _row_digests(rows)


def _row_digests(rows: list[tuple]) -> bytes:
    return b"".join(hashlib.blake2b(_dumps(row), digest_size=8).digest() for row in rows)


# --- writing ------------------------------------------------------------------------

def _deflate(data: bytes, finish: bool = False) -> bytes:
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush(zlib.Z_FINISH if finish else zlib.Z_FULL_FLUSH)


ROW_START = '<row r="'  # never inside a cell: text is escaped (&lt;)
SPLICE_SHARE = 4  # a block with a quarter of its rows changed or more is encoded whole (one pass, memoised cells)


def _encode(plan: Plan, b: int, makers) -> Block:
    """Block ``b`` from its rows: only its changed and added rows encoded when the cached
    block is there to splice them into, else all of them."""
    rows = plan.touched[b]
    first = FIRST_DATA_ROW + 1 + b * BLOCK_ROWS
    cached = plan.blocks[b] if b < len(plan.blocks) else None
    offsets = plan.spliced.get(b)
    xml = None
    if cached is not None and offsets is not None and len(offsets) * SPLICE_SHARE < len(rows):
        pieces = [ROW_START + piece for piece in _inflate(cached.deflated).split(ROW_START)[1:]]
        if len(pieces) <= len(rows) and all(o <= len(rows) for o in offsets):
            for o in sorted(offsets):
                one = rows[o]
                piece = "".join(encode_rows([one], makers, first_row=first + o, heights=row_heights([one], plan.layouts)))
                if o < len(pieces):
                    pieces[o] = piece
                elif o == len(pieces):
                    pieces.append(piece)
                else:
                    pieces = None
                    break
            if pieces is not None and len(pieces) == len(rows):
                xml = "".join(pieces).encode("utf-8")
    if xml is None:
        xml = "".join(encode_rows(rows, makers, first_row=first, heights=row_heights(rows, plan.layouts))).encode("utf-8")
    return Block(_dumps(rows), _deflate(xml), zlib.crc32(xml), len(xml), crc32_shift(len(xml)))


def _inflate(deflated: bytes) -> str:
    return zlib.decompressobj(-15).decompress(deflated).decode("utf-8")


# CRC-32 of a concatenation from the pieces' CRCs (zlib's crc32_combine, GF(2) polynomial arithmetic).
_POLY = 0xEDB88320


def _multmodp(a: int, b: int) -> int:
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if a & (m - 1) == 0:
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


def _x2n_table() -> list[int]:
    table, p = [], 1 << 30
    for _ in range(32):
        table.append(p)
        p = _multmodp(p, p)
    return table


_X2N = _x2n_table()


def crc32_shift(len2: int) -> int:
    """x^(8·len2) mod the polynomial: crc32_combine's factor for a second piece of ``len2`` bytes."""
    p, n, k = 1 << 31, len2, 3
    while n:
        if n & 1:
            p = _multmodp(_X2N[k & 31], p)
        n >>= 1
        k += 1
    return p


def crc32_combine(crc1: int, crc2: int, len2: int, shift: int | None = None) -> int:
    """The CRC of piece 1 then piece 2; ``shift`` is ``crc32_shift(len2)`` when known."""
    return _multmodp(crc32_shift(len2) if shift is None else shift, crc1) ^ crc2


def _raw_entry(out: zipfile.ZipFile, like: zipfile.ZipInfo, pieces: list[bytes], crc: int, size: int) -> None:
    """Append a deflated entry whose compressed bytes are ``pieces`` (one valid stream together)."""
    compressed = sum(len(p) for p in pieces)
    if size >= zipfile.ZIP64_LIMIT or compressed >= zipfile.ZIP64_LIMIT:
        raise ValueError("register too large for a plain zip entry")
    entry = zipfile.ZipInfo(like.filename, date_time=like.date_time)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.CRC, entry.compress_size, entry.file_size = crc, compressed, size
    entry.external_attr = like.external_attr
    entry.header_offset = out.fp.tell()
    out.fp.write(entry.FileHeader(zip64=False))
    for piece in pieces:
        out.fp.write(piece)
    out.start_dir = out.fp.tell()
    out.filelist.append(entry)
    out.NameToInfo[entry.filename] = entry
    out._didModify = True


def _package(package: bytes, dest: Path, blocks: list[Block]) -> None:
    def write_part(out: zipfile.ZipFile, info: zipfile.ZipInfo, data: bytes) -> None:
        head, tail = (part.encode("utf-8") for part in sheetxml.split_after_row(data.decode("utf-8"), HEADER_ROW + 1))
        crc, size = zlib.crc32(head), len(head)
        for block in blocks:
            crc, size = crc32_combine(crc, block.crc, block.size, block.shifted()), size + block.size
        crc, size = crc32_combine(crc, zlib.crc32(tail), len(tail)), size + len(tail)
        _raw_entry(out, info, [_deflate(head), *(b.deflated for b in blocks), _deflate(tail, finish=True)], crc, size)

    sheetxml.copy_package_around(package, dest, REGISTER_PART, write_part)


def write(path: Path, cache_file: Path, plan: Plan, *, identity: tuple, generation: int, rendered_at: datetime,
          anchor: str = "") -> int:
    """The register from ``plan`` (atomically), and the cache the next render builds on (first)."""
    register = plan.register
    package, makers, styles = writer.frame(register, count=len(plan.keys), totals=plan.totals,
                                           blocks=blocks_of(register, plan.tallies), layouts=plan.layouts,
                                           rendered_at=rendered_at, anchor=anchor, with_styles=True,
                                           relocate=True)
    if styles != plan.styles:  # another style numbering than the cached cells carry (never seen; kept safe)
        _encode_all(plan)
    for b in sorted(plan.touched):
        plan.blocks[b] = _encode(plan, b, makers)
    blocks = [b for b in plan.blocks if b is not None]
    cache = Cache(identity, generation, plan.keys, blocks, plan.stats, plan.totals, plan.tallies, plan.layouts, styles,
                  plan.day, plan.day_keys, plan.sources)
    # The cache first: killed before the register is swapped in, the next render still starts from
    # the rows this claim read (its generation), and writes the whole register again.
    try:
        atomic_write_bytes(cache_file, cache.to_bytes())
    except OSError:
        discard(cache_file)  # the next render is a full one; the register is still written now
    atomic_save(Path(path), lambda tmp: _package(package, tmp, blocks))
    return len(plan.keys)
