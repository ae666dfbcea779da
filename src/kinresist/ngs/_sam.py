"""Compiled parsing of SAM text records into flat per-read arrays (the NGS hot path, part 1).

pysam (htslib) does the I/O: ``AlignmentFile.fetch`` decodes the BAM records of a window and
``AlignedSegment.to_string`` formats each as one SAM line (about 1 us per read, in C). A chunk
of lines is joined into one byte buffer and :func:`parse_chunk` (numba) turns it into columnar
arrays: reference start, read-1 strand, template-position key, sequence (upper-case ASCII),
base qualities, CIGAR operations, read name and UMI. No Python object is kept per read.

The rules are those of the per-read Python code this replaces (see :mod:`kinresist.ngs.reads`):
unmapped/secondary/supplementary/QC-fail records, ``MAPQ < min_mapq`` and records without a
sequence are skipped; a missing quality string counts as Q30; the UMI is the ``tag`` value or
the read-name suffix (:func:`kinresist.ngs.umi.umi_from_name`); the family key is
:func:`kinresist.ngs.reads.family_key_of` computed on the parsed fields.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = [
    "ERR_DUPLEX_UMI",
    "ERR_NO_UMI",
    "ERR_ORDER",
    "KIND_MC",
    "KIND_SE",
    "KIND_TL",
    "KIND_WINDOW",
    "UMI_AUTO",
    "UMI_NAME",
    "UMI_TAG",
    "parse_chunk",
]

UMI_AUTO, UMI_TAG, UMI_NAME = 0, 1, 2
KIND_SE, KIND_MC, KIND_TL, KIND_WINDOW = 0, 1, 2, 3
ERR_ORDER, ERR_NO_UMI, ERR_DUPLEX_UMI = 1, 2, 3

_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x800
_TAB, _NL, _COLON, _DASH = 9, 10, 58, 45

# CIGAR operation letters -> BAM codes (M I D N S H P = X -> 0..8); 255: not an operation
_OP_CODE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"MIDNSHP=X"):
    _OP_CODE[_c] = _i
# characters allowed in a read-name UMI (umi.umi_from_name): A C G T N - +
_UMI_OK = np.zeros(256, dtype=np.bool_)
for _c in b"ACGTN-+":
    _UMI_OK[_c] = True
_UPPER = np.arange(256, dtype=np.uint8)
_UPPER[ord("a") : ord("z") + 1] -= 32


@njit(cache=True, nogil=True)
def _int(buf: np.ndarray, a: int, b: int) -> int:
    """Signed decimal integer in ``buf[a:b]``."""
    neg = False
    if a < b and buf[a] == 45:
        neg = True
        a += 1
    v = 0
    for i in range(a, b):
        v = v * 10 + (int(buf[i]) - 48)
    return -v if neg else v


@njit(cache=True, nogil=True)
def _unclipped_5p(
    start: int, ops: np.ndarray, lens: np.ndarray, a: int, b: int, reverse: bool
) -> int:
    """Unclipped 5' end (0-based) from the alignment start and CIGAR ops ``[a, b)``."""
    if reverse:
        end = start
        for k in range(a, b):
            op = ops[k]
            if op == 0 or op == 2 or op == 3 or op == 7 or op == 8:
                end += lens[k]
        if b > a and (ops[b - 1] == 4 or ops[b - 1] == 5):
            end += lens[b - 1]
        return end - 1
    if b > a and (ops[a] == 4 or ops[a] == 5):
        return start - lens[a]
    return start


@njit(cache=True, nogil=True)
def _mc_cigar(
    buf: np.ndarray, a: int, b: int, op_code: np.ndarray, ops: np.ndarray, lens: np.ndarray
) -> int:
    """Operations of an ``MC`` value, as ``re.findall(r"(\\d+)([MIDNSHP=X])")`` finds them."""
    n = 0
    i = a
    while i < b:
        if 48 <= buf[i] <= 57:
            j = i
            v = 0
            while j < b and 48 <= buf[j] <= 57:
                v = v * 10 + (int(buf[j]) - 48)
                j += 1
            if j < b and op_code[buf[j]] != 255:
                ops[n] = op_code[buf[j]]
                lens[n] = v
                n += 1
                i = j + 1
            else:
                i = j
        else:
            i += 1
    return n


@njit(cache=True, nogil=True)
def _name_umi(buf: np.ndarray, a: int, b: int, sep: np.ndarray) -> tuple[int, int]:
    """``[start, end)`` of the read-name UMI (:func:`umi_from_name`), or (-1, -1)."""
    m = len(sep)
    found = -1
    if m > 0:
        for i in range(b - m, a - 1, -1):
            ok = True
            for k in range(m):
                if buf[i + k] != sep[k]:
                    ok = False
                    break
            if ok:
                found = i + m
                break
    if found < 0:
        found = a
        for i in range(b - 1, a - 1, -1):
            if buf[i] == _COLON:
                found = i + 1
                break
    end = found
    while end < b and buf[end] != 32:
        end += 1
    if end == found:
        return -1, -1
    for i in range(found, end):
        if not _UMI_OK[buf[i]]:
            return -1, -1
    return found, end


@njit(cache=True, nogil=True)
def parse_chunk(
    buf: np.ndarray,
    min_mapq: int,
    umi_mode: int,
    tag: np.ndarray,
    sep: np.ndarray,
    duplex: bool,
    region_key: bool,
    last_start: int,
):
    """Parse newline-terminated SAM lines of one window (see the module docstring).

    Returns ``(n, err, err_line, last_start, start, strand, kind, ka, kb, kc, seq_off,
    seq, qual, cig_off, cig_op, cig_len, name_off, name, umi_off, umi)`` with arrays trimmed
    to the ``n`` kept reads. ``err`` (``ERR_*``, 0 = none) stops parsing at line ``err_line``.
    """
    total = len(buf)
    n_lines = 0
    for i in range(total):
        if buf[i] == _NL:
            n_lines += 1
    start = np.empty(n_lines, np.int64)
    strand = np.empty(n_lines, np.int8)
    kind = np.empty(n_lines, np.int8)
    ka = np.empty(n_lines, np.int64)
    kb = np.empty(n_lines, np.int64)
    kc = np.empty(n_lines, np.int64)
    seq_off = np.zeros(n_lines + 1, np.int64)
    cig_off = np.zeros(n_lines + 1, np.int64)
    name_off = np.zeros(n_lines + 1, np.int64)
    umi_off = np.zeros(n_lines + 1, np.int64)
    seq = np.empty(total, np.uint8)
    qual = np.empty(total, np.uint8)
    cig_op = np.empty(total // 2 + 1, np.uint8)
    cig_len = np.empty(total // 2 + 1, np.int64)
    names = np.empty(total, np.uint8)
    umis = np.empty(total + n_lines, np.uint8)
    mc_op = np.empty(total // 2 + 1, np.uint8)
    mc_len = np.empty(total // 2 + 1, np.int64)
    fa = np.empty(12, np.int64)
    fb = np.empty(12, np.int64)
    n = 0
    pos = 0
    err = 0
    err_line = -1
    for li in range(n_lines):
        # field boundaries of the 11 mandatory fields; tags follow
        eol = pos
        while buf[eol] != _NL:
            eol += 1
        f = 0
        fa[0] = pos
        i = pos
        while i < eol and f < 11:
            if buf[i] == _TAB:
                fb[f] = i
                f += 1
                fa[f] = i + 1
            i += 1
        if f < 11:
            fb[f] = eol
        tags_at = fa[11] if f >= 11 else eol
        pos = eol + 1
        flag = _int(buf, fa[1], fb[1])
        mapq = _int(buf, fa[4], fb[4])
        if (flag & _SKIP_FLAGS) != 0 or mapq < min_mapq:
            continue
        if fb[9] - fa[9] == 1 and buf[fa[9]] == 42:  # SEQ '*': no sequence
            continue
        rstart = _int(buf, fa[3], fb[3]) - 1
        if rstart < last_start:
            err = 1
            err_line = li
            break
        last_start = rstart
        # tags: the UMI tag and MC
        ta = -1
        tb = -1
        ma = -1
        mb = -1
        j = tags_at
        while j < eol:
            k = j
            while k < eol and buf[k] != _TAB:
                k += 1
            if k - j >= 5 and buf[j + 2] == _COLON and buf[j + 4] == _COLON:
                if buf[j] == tag[0] and buf[j + 1] == tag[1] and ta < 0:
                    ta = j + 5
                    tb = k
                elif buf[j] == 77 and buf[j + 1] == 67 and ma < 0:  # MC
                    ma = j + 5
                    mb = k
            j = k + 1
        ua = -1
        ub = -1
        if umi_mode != 2 and ta >= 0:
            ua = ta
            ub = tb
        elif umi_mode != 1:
            ua, ub = _name_umi(buf, fa[0], fb[0], sep)
        if ua < 0:
            err = 2
            err_line = li
            break
        reverse = (flag & 0x10) != 0
        paired = (flag & 0x1) != 0
        r1_rev = reverse if (not paired or (flag & 0x40) != 0) else (flag & 0x20) != 0
        # UMI (duplex: 'A-B', read as 'B-A' on an R1-reverse template)
        u0 = umi_off[n]
        if duplex:
            dash = -1
            n_dash = 0
            for k in range(ua, ub):
                if buf[k] == _DASH:
                    n_dash += 1
                    dash = k
            if n_dash != 1:
                err = 3
                err_line = li
                break
            if r1_rev:
                w = u0
                for k in range(dash + 1, ub):
                    umis[w] = buf[k]
                    w += 1
                umis[w] = _DASH
                w += 1
                for k in range(ua, dash):
                    umis[w] = buf[k]
                    w += 1
            else:
                for k in range(ua, ub):
                    umis[u0 + k - ua] = buf[k]
        else:
            for k in range(ua, ub):
                umis[u0 + k - ua] = buf[k]
        umi_off[n + 1] = u0 + (ub - ua)
        # CIGAR
        c0 = cig_off[n]
        c = c0
        if not (fb[5] - fa[5] == 1 and buf[fa[5]] == 42):
            v = 0
            for k in range(fa[5], fb[5]):
                ch = buf[k]
                if 48 <= ch <= 57:
                    v = v * 10 + (int(ch) - 48)
                else:
                    cig_op[c] = _OP_CODE[ch]
                    cig_len[c] = v
                    c += 1
                    v = 0
        cig_off[n + 1] = c
        # sequence (upper case) and qualities (missing: Q30)
        s0 = seq_off[n]
        ls = fb[9] - fa[9]
        for k in range(ls):
            seq[s0 + k] = _UPPER[buf[fa[9] + k]]
        if fb[10] - fa[10] == 1 and buf[fa[10]] == 42:
            for k in range(ls):
                qual[s0 + k] = 30
        else:
            for k in range(ls):
                qual[s0 + k] = buf[fa[10] + k] - 33
        seq_off[n + 1] = s0 + ls
        # name
        n0 = name_off[n]
        for k in range(fa[0], fb[0]):
            names[n0 + k - fa[0]] = buf[k]
        name_off[n + 1] = n0 + fb[0] - fa[0]
        # template-position key
        if region_key:
            kind[n] = KIND_WINDOW
            ka[n] = 1 if r1_rev else 0
            kb[n] = 0
            kc[n] = 0
        else:
            own = _unclipped_5p(rstart, cig_op, cig_len, c0, c, reverse)
            rnext_same = (fb[6] - fa[6] == 1 and buf[fa[6]] == 61) or (
                fb[6] - fa[6] == fb[2] - fa[2]
                and not (fb[6] - fa[6] == 1 and buf[fa[6]] == 42)
                and np.all(buf[fa[6] : fb[6]] == buf[fa[2] : fb[2]])
            )
            if paired and (flag & 0x8) == 0 and rnext_same:
                nstart = _int(buf, fa[7], fb[7]) - 1
                if ma >= 0:
                    nm = _mc_cigar(buf, ma, mb, _OP_CODE, mc_op, mc_len)
                    mate = _unclipped_5p(nstart, mc_op, mc_len, 0, nm, (flag & 0x20) != 0)
                    kind[n] = KIND_MC
                    ka[n] = min(own, mate)
                    kb[n] = max(own, mate)
                else:
                    kind[n] = KIND_TL
                    ka[n] = min(rstart, nstart)
                    kb[n] = abs(_int(buf, fa[8], fb[8]))
                kc[n] = -1 if duplex else (1 if r1_rev else 0)
            else:
                kind[n] = KIND_SE
                ka[n] = own
                kb[n] = 0
                kc[n] = 1 if reverse else 0
        start[n] = rstart
        strand[n] = 1 if r1_rev else 0
        n += 1
    return (
        n,
        err,
        err_line,
        last_start,
        start[:n].copy(),
        strand[:n].copy(),
        kind[:n].copy(),
        ka[:n].copy(),
        kb[:n].copy(),
        kc[:n].copy(),
        seq_off[: n + 1].copy(),
        seq[: seq_off[n]].copy(),
        qual[: seq_off[n]].copy(),
        cig_off[: n + 1].copy(),
        cig_op[: cig_off[n]].copy(),
        cig_len[: cig_off[n]].copy(),
        name_off[: n + 1].copy(),
        names[: name_off[n]].copy(),
        umi_off[: n + 1].copy(),
        umis[: umi_off[n]].copy(),
    )
