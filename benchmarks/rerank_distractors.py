"""Re-ranking with ToyLandmarks distractors: mAP, time and memory per query when N rendered distractor images join
the database (the "+1M" protocol of R1M, scaled to what a CPU can extract).

    python benchmarks/rerank_distractors.py --distractors 10000 [--weights results/runs/demo-small/train/model.pt]

The benchmark lives in its own data root (`<data>/bench-distractors` unless --bench-root), builds ToyLandmarks
`small` with the distractors stored (`soi toy build --distractors N`; image i is always the same), extracts the
database (+ distractors) and the cropped queries into resumable feature stores, and runs each re-ranker of the demo.
Memory is the peak resident-set growth during each method (Linux: VmHWM reset through /proc/self/clear_refs),
for all queries at once, so torch buffers count as well as numpy arrays.
"""
import argparse, os, platform, re, time
from pathlib import Path
import numpy as np

def _vm(key):
    "VmRSS / VmHWM of this process in bytes."
    return int(re.search(rf'{key}:\s+(\d+) kB', Path('/proc/self/status').read_text()).group(1)) * 1024

def main():
    from soi.config import add_config_args, config_from_args, seed_everything
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--distractors', type=int, default=10000); ap.add_argument('--preset', default='small')
    ap.add_argument('--model', default='resnet18-soi'); ap.add_argument('--weights', default=None)
    ap.add_argument('--image-size', type=int, default=256); ap.add_argument('--batch-size', type=int, default=32)
    ap.add_argument('--bench-root', default=None)
    a = add_config_args(ap).parse_args(); cfg = config_from_args(a)
    from soi.toy import build_toy
    from soi.data_custom import open_dataset
    from soi.model import create_model
    from soi.extract import extract_to_store, load_features
    from soi.index import knn
    from soi.evaluate import evaluate_revisited, format_revisited
    from soi.rerank import alpha_qe, dba, diffusion, k_reciprocal
    root = Path(a.bench_root) if a.bench_root else cfg.data/'bench-distractors'
    name = f'toy-{a.preset}'
    t = time.perf_counter()
    if not (root/'test'/name/f'{name}.txt').exists():
        build_toy(root/'test'/name, a.preset, distractors=a.distractors, overwrite=True)
    build_s = time.perf_counter() - t
    ds, dsd = open_dataset(name, root), open_dataset(f'{name}+{name}', root)
    seed_everything(0)
    net = create_model(a.model, weights=a.weights)
    kw = dict(image_size=a.image_size, batch_size=a.batch_size, checkpoint=a.weights or 'seed0')
    t = time.perf_counter()
    X, mx = load_features(extract_to_store(net, dsd.db_paths, root/'stores'/'db', **kw))
    Q, mq = load_features(extract_to_store(net, ds.query_paths, root/'stores'/'queries', bbxs=ds.bbxs, **kw))
    extract_s = time.perf_counter() - t
    assert len(mx['ids']) == dsd.n_db and len(mq['ids']) == ds.n_queries, 'unreadable images: see the manifests'
    n, N = ds.n_db, dsd.n_db
    print(f'{name}: {ds.n_queries} queries, {n} images + {N - n:,} distractors; build {build_s:.0f} s, '
          f'extraction {extract_s:.0f} s ({N + ds.n_queries} images)')
    rows = []
    def measure(label, f, Xdb):
        Path('/proc/self/clear_refs').write_text('5'); base = _vm('VmRSS'); t0 = time.perf_counter()
        s, r = f(Xdb)
        dt = time.perf_counter() - t0; peak = _vm('VmHWM') - base
        res = evaluate_revisited(r, dsd.gnd if len(Xdb) == N else ds.gnd)
        return dict(label=label, res=res, ms=1000 * dt / ds.n_queries, mib=peak / 2**20)
    for label, Xdb in ((f'{n} images', X[:n]), (f'+{N - n:,} distractors', X)):
        k = min(1000, len(Xdb))
        first = knn(Q, Xdb, k)
        s0, r0 = first
        methods = [('exact search (top-1000)', lambda Xd: knn(Q, Xd, k)),
                   ('α-QE (k=2, α=3)', lambda Xd: alpha_qe(Q, Xd, s0, r0, n_expand=2, alpha=3.0)),
                   ('DBA (k=2, α=3) + search', lambda Xd: knn(Q, dba(Xd, n_expand=2, alpha=3.0), k)),
                   ('diffusion (k=200, trunc=2000), offline + online', lambda Xd: diffusion(Q, Xd, s0, r0, k=min(200, len(Xd) - 1), trunc=min(2000, len(Xd)))),
                   ('k-reciprocal (top-100)', lambda Xd: k_reciprocal(Q, Xd, s0, r0, top_k=100))]
        for m, f in methods:
            r = measure(m, f, Xdb); r['db'] = label; rows.append(r)
    print(f'\n{platform.machine()} CPU, {os.cpu_count()} cores, model {a.model} ({a.weights or "random init"}), '
          f'{a.image_size} px; ms/query and peak MiB include offline work (DBA, diffusion graph) spread over the queries')
    print('| database | method | E | M | H | ms/query | peak MiB |\n|---|---|---:|---:|---:|---:|---:|')
    for r in rows:
        e, m, h = (100 * r['res'][p]['mAP'] for p in ('easy', 'medium', 'hard'))
        print(f"| {r['db']} | {r['label']} | {e:.2f} | {m:.2f} | {h:.2f} | {r['ms']:.2f} | {r['mib']:.1f} |")

if __name__ == '__main__':
    main()
