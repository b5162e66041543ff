"""Benchmark: peak memory (RSS) of reading a feature store and a GLDv2 train CSV, the previous way and ours.

    python benchmarks/memory.py                          # 1,000,000 x 2048 fp16 store, 1,000,000-row CSV
    python benchmarks/memory.py --n 100000 --csv-rows 100000 --old-n 100000   # a quick run

Store: `--n` random rows in float16, written by `soi.store` in shards of `--shard-size` rows (the extraction
default, 1000), so 1M x 2048 is 1000 shards and 4 GiB on disk. Ways of loading it:
  * before: the previous `load_features` (every shard read into RAM, concatenated, then converted to float32:
    about 4 times the float16 store at the peak). At 1M x 2048 that is ~16 GiB, more than a shared machine
    should be asked for, so it runs on the first `--old-n` rows (default 262,144); the same store prefix is also
    read our way, for a like-for-like ratio.
  * after, float32: `load_features(store)`: shards memory-mapped and copied into one float32 array.
  * after, float16: `load_features(store, dtype=None)`: the same into a float16 array (the stored dtype).
CSV: `--csv-rows` rows in the GLDv2 train format (`id,url,landmark_id`; 16 hex digits, a 90-character URL,
one of `--landmarks` ids). "before" is the previous `csv.DictReader` list of dicts, "after" `pandas.read_csv`
with `usecols=['id', 'landmark_id']`; both are shown for the CSV alone and for the whole `read_gldv2_csv`
(paths + `TupleSource`).

Every measurement runs in a fresh process: peak RSS (`ru_maxrss`) minus the RSS after imports.
"""
import argparse, csv, json, os, platform, resource, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np

def rss_gib(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20   # Linux: KiB

def old_load_features(store):
    "The previous soi.store.load_features body: every shard in RAM, concatenated, then float32."
    from soi.store import read_manifest, _names
    store = Path(store); m = read_manifest(store); ks = range(len(m['shards']))
    Xs = [np.load(store/_names(k)[0]) for k in ks]; ids = [np.load(store/_names(k)[1]) for k in ks]
    X = np.concatenate(Xs).astype(np.float32) if Xs else np.zeros((0, m['dim']), np.float32)
    m['ids'] = np.concatenate(ids) if ids else np.zeros(0, np.int64)
    return X, m

def old_read_gldv2_csv(csv_path, ims_root):
    "The previous soi.mining.read_gldv2_csv body: a list of dicts."
    from soi.mining import tuples_from_labels
    csv_path, ims_root = Path(csv_path), Path(ims_root)
    with open(csv_path, newline='') as f: rows = list(csv.DictReader(f))
    paths = [ims_root/r['id'][0]/r['id'][1]/r['id'][2]/f"{r['id']}.jpg" for r in rows]
    return tuples_from_labels(paths, [r['landmark_id'] for r in rows], name='gldv2')

def child(way, path):
    "Run one measurement in this process; print JSON."
    import pandas as pd
    from soi.store import load_features
    from soi.mining import read_gldv2_csv
    base = rss_gib(); t = time.perf_counter()
    f = {'store-before': lambda: old_load_features(path)[0],
         'store-after-f32': lambda: load_features(path)[0],
         'store-after-f16': lambda: load_features(path, dtype=None)[0],
         'csv-before': lambda: list(csv.DictReader(open(path, newline=''))),
         'csv-after': lambda: pd.read_csv(path, usecols=['id', 'landmark_id'], dtype={'id': str}, keep_default_na=False),
         'tuples-before': lambda: old_read_gldv2_csv(path, '/ims'),
         'tuples-after': lambda: read_gldv2_csv(path, '/ims')}[way]
    r = f(); dt = time.perf_counter() - t
    shape = list(r.shape) if hasattr(r, 'shape') else [len(r)]
    print(json.dumps(dict(way=way, peak=rss_gib(), base=base, s=dt, shape=shape, dtype=str(getattr(r, 'dtype', '')))))

def measure(way, path):
    out = subprocess.run([sys.executable, __file__, '--child', way, '--path', str(path)], capture_output=True, text=True)
    if out.returncode: sys.exit(f'{way} failed:\n{out.stderr[-3000:]}')
    return json.loads(out.stdout.strip().splitlines()[-1])

def make_store(d, n, dim, shard_size, seed=0):
    from soi.store import store_meta, open_store, write_shard, finalize_store
    meta = store_meta(dict(name='bench', config={'dim': dim}, mean=[0.5] * 3, std=[0.25] * 3, outputdim=dim))
    open_store(d, meta, [f'{i}.jpg' for i in range(n)], shard_size=shard_size)
    rng = np.random.default_rng(seed)
    for k, a in enumerate(range(0, n, shard_size)):
        b = min(a + shard_size, n)
        write_shard(d, k, rng.standard_normal((b - a, dim), dtype=np.float32), np.arange(a, b))
    finalize_store(d)
    return d

def make_csv(f, n, landmarks, seed=0):
    rng = np.random.default_rng(seed)
    ids = [f'{v:016x}' for v in rng.integers(0, 2**63, n)]
    lm = rng.integers(0, landmarks, n)
    with open(f, 'w') as fh:
        fh.write('id,url,landmark_id\n')
        for i, l in zip(ids, lm):
            fh.write(f'{i},https://upload.wikimedia.org/wikipedia/commons/{i[0]}/{i[:2]}/Landmark_photo_{i}_original_upload.jpg,{l}\n')
    return f

def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument('--n', type=int, default=1_000_000); ap.add_argument('--d', type=int, default=2048)
    ap.add_argument('--shard-size', type=int, default=1000); ap.add_argument('--old-n', type=int, default=262_144)
    ap.add_argument('--csv-rows', type=int, default=1_000_000); ap.add_argument('--landmarks', type=int, default=50_000)
    ap.add_argument('--dir', default=None, help='scratch folder (default: a temporary one; needs ~5 GB at 1M x 2048)')
    ap.add_argument('--json', default=str(Path(__file__).parent/'results'/'memory.json'),
                    help='result file rendered into RESULTS.md by tools/render_results.py (default: benchmarks/results/memory.json)')
    ap.add_argument('--child'); ap.add_argument('--path')
    a = ap.parse_args(argv)
    if a.child: return child(a.child, a.path)
    tmp = tempfile.TemporaryDirectory(dir=a.dir); d = Path(tmp.name)
    print(f'# machine: {platform.node()}, {os.cpu_count()} CPUs, {platform.processor() or platform.machine()}; '
          f'load average {os.getloadavg()[0]:.2f} at start')
    rows = []
    t = time.perf_counter(); make_store(d/'old', a.old_n, a.d, a.shard_size)
    if a.n != a.old_n: make_store(d/'big', a.n, a.d, a.shard_size)
    print(f'# stores written in {time.perf_counter() - t:.0f} s')
    for n, st in [(a.old_n, d/'old')] + ([(a.n, d/'big')] if a.n != a.old_n else []):
        for way in (['store-before'] if st == d/'old' else []) + ['store-after-f32', 'store-after-f16']:
            rows.append((f'{n:,} x {a.d} fp16 store ({n * a.d * 2 / 2**30:.2f} GiB on disk)', measure(way, st)))
    make_csv(d/'train.csv', a.csv_rows, a.landmarks)
    size = (d/'train.csv').stat().st_size / 2**20
    for way in ('csv-before', 'csv-after', 'tuples-before', 'tuples-after'):
        rows.append((f'{a.csv_rows:,}-row GLDv2 train CSV ({size:.0f} MiB)', measure(way, d/'train.csv')))
    print(f'\n| data | way | result | peak RSS GiB | RSS added GiB | seconds |\n|---|---|---|---|---|---|')
    for what, r in rows:
        print(f"| {what} | {r['way']} | {r['shape']} {r['dtype']} | {r['peak']:.2f} | {r['peak'] - r['base']:.2f} | {r['s']:.1f} |")
    by = {(w, r['way']): r['peak'] - r['base'] for w, r in rows}
    for w in dict.fromkeys(w for w, _ in rows):
        if (w, 'store-before') in by:
            print(f"# {w}: before / after (float32) = {by[(w, 'store-before')] / by[(w, 'store-after-f32')]:.2f}x, "
                  f"before / after (float16) = {by[(w, 'store-before')] / by[(w, 'store-after-f16')]:.2f}x")
        if (w, 'csv-before') in by:
            print(f"# {w}: CSV before / after = {by[(w, 'csv-before')] / by[(w, 'csv-after')]:.2f}x; "
                  f"read_gldv2_csv before / after = {by[(w, 'tuples-before')] / by[(w, 'tuples-after')]:.2f}x")
    print(f'# load average {os.getloadavg()[0]:.2f} at the end')
    out = dict(title='Peak memory: feature store and GLDv2 CSV (`benchmarks/memory.py`)',
               machine=f'{platform.node()}, {os.cpu_count()} CPUs, {platform.machine()}; load average {os.getloadavg()[0]:.2f} at the end',
               command='python benchmarks/memory.py ' + ' '.join(sys.argv[1:] if argv is None else argv),
               notes='Each row a fresh process; "RSS added" = peak RSS minus the RSS after imports. "before" is the previous '
                     'code, run from a verbatim copy in the script (load_features reading every shard into RAM as float32; '
                     'read_gldv2_csv through csv.DictReader).',
               rows=[{'data': w, 'way': r['way'], 'result': f"{r['shape']} {r['dtype']}", 'peak RSS GiB': round(r['peak'], 2),
                      'RSS added GiB': round(r['peak'] - r['base'], 2), 'seconds': round(r['s'], 1)} for w, r in rows])
    Path(a.json).parent.mkdir(parents=True, exist_ok=True); Path(a.json).write_text(json.dumps(out, indent=1) + '\n')

if __name__ == '__main__': main()
