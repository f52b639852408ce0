#!/usr/bin/env python3
"""flcevents.py - an independent reader of page-fault and mmap_lock events, used
by tests as an oracle next to faultlab's own decoder.

    flcevents.py FILE.flc        a faultlab capture
    flcevents.py --text TRACE    a tracefs text trace (tests/kernels/trace-text.sh)

Prints key=value lines:
    release=          uname.release from the capture header (captures only)
    events=N          events read; event.<name>=N per event name
    pf_user=N         exceptions:page_fault_user events
    pf_user_mmap=N    of those, faults whose next fault-or-mmap_lock event in the same
                      tid is mmap_lock_start_locking (the fault took mmap_lock)
    pf_user_mmap_pct= 100 * pf_user_mmap / pf_user
    pf_user_mmap_after_filemap=N  of pf_user_mmap, faults that ran filemap_fault first
                      (mm_filemap_fault, 6.12+) before taking mmap_lock: a VMA-lock
                      attempt that dropped its lock for I/O and retried under mmap_lock
    pf_kernel=N, pf_kernel_mmap=N...   the same for page_fault_kernel
    lost=N            events the ring buffer lost (sub-buffers flagged missed)

The capture reader follows capture/flc.h (skippable-frame tags, one zstd frame
per record, HEADER as {le32 len, key, le32 len, val}) and decompresses with the
zstd program. The ring-buffer walk follows the kernel's sub-buffer layout as
described by the stored header_page (u64 timestamp, commit word with the
"missed events" flags in its top bits, then events with a 32-bit header:
type_len in the low 5 bits, time delta in the high 27). Event ids and the
common_pid offset come from the stored format texts. Nothing is assumed about
the capturing kernel beyond that, so it reads 6.1, 6.12 and 6.18 captures alike.
"""
import re
import struct
import subprocess
import sys
from collections import Counter

SKIP_MAGIC = 0x184D2A5E
TAG_MAGIC = 0x31434C46
HEADER, DATA = 1, 2


def read_records(path):
    """[(kind, cpu, rawsize)] and the concatenated payloads (zstd -dc)."""
    with open(path, 'rb') as f:
        blob = f.read()
    recs, off = [], 0
    while off + 40 <= len(blob):
        magic, size = struct.unpack_from('<II', blob, off)
        if magic != SKIP_MAGIC or size != 32:
            break
        tmagic, kind, cpu, _seq, zsize, rawsize = struct.unpack_from('<IHHQII', blob, off + 8)
        if tmagic != TAG_MAGIC:
            break
        recs.append((kind, cpu, rawsize if zsize else 0))
        off += 40 + zsize
    raw = subprocess.run(['zstd', '-dcq', path], stdout=subprocess.PIPE, check=False).stdout
    return recs, raw


def parse_kv(buf):
    kv, off = {}, 0
    while off + 4 <= len(buf):
        (kl,) = struct.unpack_from('<I', buf, off)
        key = buf[off + 4:off + 4 + kl].decode('latin-1')
        off += 4 + kl
        (vl,) = struct.unpack_from('<I', buf, off)
        kv.setdefault(key, buf[off + 4:off + 4 + vl].decode('latin-1'))
        off += 4 + vl
    return kv


def field(fmt, name):
    """(offset, size, signed) of a field in a format text, or None."""
    m = re.search(r'field:[^;]*[ *]' + re.escape(name) + r'(\[[^\]]*\])?;'
                  r'\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d)', fmt)
    return (int(m.group(2)), int(m.group(3)), m.group(4) == '1') if m else None


def flc_events(path, out):
    recs, raw = read_records(path)
    off, header, data = 0, None, []
    for kind, cpu, size in recs:
        payload = raw[off:off + size]
        off += size
        if kind == HEADER and header is None:
            header = parse_kv(payload)
        elif kind == DATA:
            data.append((cpu, payload))
    if header is None:
        sys.exit('flcevents: %s: no header record (not a capture?)' % path)
    out['release'] = header.get('uname.release', '')
    le = header.get('big_endian', '0') == '0'
    E = '<' if le else '>'
    long_size = int(header.get('long_size', '8'))
    subbuf = int(header.get('subbuf_size', '4096'))
    hp = header.get('header_page', '')
    ts_f = field(hp, 'timestamp') or (0, 8, False)
    commit_f = field(hp, 'commit') or (8, long_size, True)
    data_off = (field(hp, 'data') or (ts_f[1] + commit_f[1], 0, True))[0]
    names, pid_f = {}, None
    for key, fmt in header.items():
        if not key.startswith('format/'):
            continue
        m = re.search(r'^ID:\s*(\d+)', fmt, re.M)
        if m:
            names[int(m.group(1))] = key.split('/')[-1]
            pid_f = pid_f or field(fmt, 'common_pid')
    pid_off = pid_f[0] if pid_f else 4
    evs, lost, seq = [], 0, 0
    for cpu, payload in data:
        for p in range(0, len(payload) - data_off + 1, subbuf):
            (ts,) = struct.unpack_from(E + 'Q', payload, p + ts_f[0])
            commit = int.from_bytes(payload[p + commit_f[0]:p + commit_f[0] + commit_f[1]],
                                    'little' if le else 'big')
            if commit & (1 << 31):		# RB_MISSED_EVENTS
                lost += 1
            length = commit & ((1 << 30) - 1)
            q, end = p + data_off, p + data_off + min(length, subbuf - data_off)
            while q + 4 <= end:
                (hdr,) = struct.unpack_from(E + 'I', payload, q)
                tl, delta = hdr & 0x1f, hdr >> 5
                if tl == 29:		# padding: array[0] bytes follow the header
                    (n,) = struct.unpack_from(E + 'I', payload, q + 4)
                    q += 4 + (n if n else 4)
                    continue
                if tl == 30:		# time extend
                    (ext,) = struct.unpack_from(E + 'I', payload, q + 4)
                    ts += (ext << 27) + delta
                    q += 8
                    continue
                if tl == 31:		# absolute time stamp
                    (ext,) = struct.unpack_from(E + 'I', payload, q + 4)
                    ts = (ts & ~((1 << 59) - 1)) | (ext << 27) | delta
                    q += 8
                    continue
                ts += delta
                if tl == 0:
                    (n,) = struct.unpack_from(E + 'I', payload, q + 4)
                    body, q = q + 8, q + 4 + ((n + 3) & ~3)
                else:
                    body, q = q + 4, q + 4 + 4 * tl
                (etype,) = struct.unpack_from(E + 'H', payload, body)
                (tid,) = struct.unpack_from(E + 'i', payload, body + pid_off)
                evs.append((ts, cpu, seq, tid, names.get(etype, 'id%d' % etype)))
                seq += 1
    evs.sort()
    out['lost'] = lost
    return [(tid, name) for _ts, _cpu, _seq, tid, name in evs]


TEXT_RE = re.compile(r'^\s*(.*)-(\d+)\s+(?:\(\s*[\d-]+\)\s+)?\[(\d+)\]\s+\S+\s+'
                     r'([\d.]+):\s+([\w]+):')


def text_events(path, out):
    evs = []
    with open(path, errors='replace') as f:
        for line in f:
            m = TEXT_RE.match(line)
            if m:
                evs.append((int(m.group(2)), m.group(5)))
    try:
        with open(path + '.lost') as f:
            out['lost'] = int(f.read().strip().split('=')[1])
    except (OSError, ValueError, IndexError):
        pass
    return evs		# a text trace is already merged in time order


def summarise(evs, out):
    counts = Counter(name for _tid, name in evs)
    pending = {}		# tid -> [fault name, mm_filemap_fault seen since] waiting for its next event
    took, took_filemap = Counter(), Counter()
    for tid, name in evs:
        if name == 'mm_filemap_fault' and tid in pending:
            pending[tid][1] = True
        elif name in ('page_fault_user', 'page_fault_kernel', 'mmap_lock_start_locking'):
            f = pending.pop(tid, None)
            if f and name == 'mmap_lock_start_locking':
                took[f[0]] += 1
                took_filemap[f[0]] += f[1]
            if name != 'mmap_lock_start_locking':
                pending[tid] = [name, False]
    out['events'] = len(evs)
    for kind, key in (('page_fault_user', 'pf_user'), ('page_fault_kernel', 'pf_kernel')):
        out[key] = counts[kind]
        out[key + '_mmap'] = took[kind]
        out[key + '_mmap_after_filemap'] = took_filemap[kind]
        pct = 100.0 * took[kind] / counts[kind] if counts[kind] else 0.0
        out[key + '_mmap_pct'] = '%.1f' % pct
    for name, n in sorted(counts.items()):
        out['event.' + name] = n


def main(argv):
    if len(argv) == 3 and argv[1] == '--text':
        out = {}
        evs = text_events(argv[2], out)
    elif len(argv) == 2:
        out = {}
        evs = flc_events(argv[1], out)
    else:
        sys.exit(__doc__.split('\n\n')[1])
    summarise(evs, out)
    for k, v in out.items():
        print('%s=%s' % (k, v))


if __name__ == '__main__':
    main(sys.argv)
