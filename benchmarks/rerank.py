"""Benchmark: global re-ranking (soi.rerank: α-QE, DBA, diffusion, k-reciprocal) on ToyLandmarks.

    python benchmarks/rerank.py                        # toy-small, random-weight resnet18-gem first stage
    python benchmarks/rerank.py --distractors 10000    # + time/memory per query with 10,000 distractor rows
    python benchmarks/rerank.py --append-results       # also append the tables to benchmarks/RESULTS.md

The first stage is a soi model with random weights (no weights offline), extracted with soi.extract; its
descriptors are cached under <results>/bench-rerank/. Each method re-ranks the exact top-100 and is evaluated
with soi.evaluate.evaluate_revisited (Easy/Medium/Hard mAP). Times: 'offline' is the one-off database side
(DBA's augmented rows, diffusion's F), 'ms/query' the online part. With --distractors, that many distractor
rows are added to the database (synthetic: random mixes of two database rows plus noise, L2-normalised; timing
and memory do not depend on image content, mAP is not reported for them) and time and peak memory per query
are measured (tracemalloc: numpy allocations; torch buffers are not counted).
"""
import argparse, datetime, os, sys, time, tracemalloc
import numpy as np
from soi.config import add_config_args, config_from_args
from soi.data_custom import open_dataset
from soi.evaluate import evaluate_revisited
from soi.index import knn, search
from soi.rerank import alpha_qe, dba, diffusion, diffusion_offline, k_reciprocal

def features(ds, model, image_size, cache):
    "(Q, X) float32 rows of the dataset with a random-weight soi model, cached as .npy."
    fq, fx = cache/f'{ds.name}-{model}-{image_size}-q.npy', cache/f'{ds.name}-{model}-{image_size}-x.npy'
    if fq.exists() and fx.exists(): return np.load(fq), np.load(fx)
    import torch
    from soi.model import create_model
    from soi.extract import extract_features
    torch.manual_seed(0); net = create_model(model)
    X = extract_features(net, ds.db_paths, image_size=image_size, device='cpu', progress=False)
    Q = extract_features(net, ds.query_paths, image_size=image_size, bbxs=ds.bbxs, device='cpu', progress=False)
    cache.mkdir(parents=True, exist_ok=True); np.save(fq, Q); np.save(fx, X); return Q, X

def methods(k):
    "name -> (offline(X) -> state, online(Q, X, S, R, state) -> (S, R)); the recipes reported."
    return {
        'first stage (no re-ranking)': (None, lambda Q, X, S, R, st: (S, R)),
        'α-QE (k=2, α=3, similarity)': (None, lambda Q, X, S, R, st: alpha_qe(Q, X, S, R, n_expand=2, alpha=3.0)),
        'α-QE thesis (k=3, α=4, rank, no q)': (None, lambda Q, X, S, R, st: alpha_qe(Q, X, S, R, n_expand=3, alpha=4.0, weights='rank', include_query=False)),
        'DBA (k=2, α=3)': (lambda X: dba(X, n_expand=2, alpha=3.0), lambda Q, X, S, R, st: search(st, Q, k)),
        'DBA + α-QE': (lambda X: dba(X, n_expand=2, alpha=3.0), lambda Q, X, S, R, st: alpha_qe(Q, st, *search(st, Q, k), n_expand=2, alpha=3.0)),
        'diffusion (k=200, trunc=2000, kq=3)': (lambda X: diffusion_offline(X), lambda Q, X, S, R, st: diffusion(Q, X, S, R, offline=st)),
        'k-reciprocal (K=100, k1=20, k2=6, λ=0.3)': (None, lambda Q, X, S, R, st: k_reciprocal(Q, X, S, R)),
    }

def run(Q, X, k, gnd=None, mem=False):
    "One row per method: mAPs (when gnd), offline s, ms/query, peak numpy MiB per query batch."
    out = []
    S, R = knn(Q, X, k)
    for name, (off, on) in methods(k).items():
        t = time.perf_counter(); st = off(X) if off else None; t_off = time.perf_counter() - t
        if mem: tracemalloc.start()
        t = time.perf_counter(); S2, R2 = on(Q, X, S, R, st); t_on = time.perf_counter() - t
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if mem else float('nan')
        if mem: tracemalloc.stop()
        row = dict(method=name, offline_s=t_off, ms_per_query=1000 * t_on / len(Q), peak_mib=peak)
        if gnd is not None: row.update({p: 100 * r['mAP'] for p, r in evaluate_revisited(R2, gnd).items()})
        out.append(row); print(row, flush=True)
    return out

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--preset', default='small'); ap.add_argument('--model', default='resnet18-gem')
    ap.add_argument('--image-size', type=int, default=224); ap.add_argument('--k', type=int, default=100)
    ap.add_argument('--distractors', type=int, default=0); ap.add_argument('--append-results', action='store_true')
    add_config_args(ap); a = ap.parse_args(argv); cfg = config_from_args(a)
    cmd = ' '.join(sys.argv[1:] if argv is None else argv)
    from soi.toy import ensure_toy
    ensure_toy(a.preset, data=cfg.data); ds = open_dataset(f'toy-{a.preset}', cfg.data)
    t = time.perf_counter(); Q, X = features(ds, a.model, a.image_size, cfg.results/'bench-rerank')
    print(f"{ds.name}: {len(X)} db, {len(Q)} queries, D={X.shape[1]} ({time.perf_counter() - t:.0f} s features)", flush=True)
    rows = run(Q, X, a.k, ds.gnd)
    head = (f"### ToyLandmarks `{a.preset}` ({len(X)} images, {len(Q)} queries), first stage `{a.model}` random weights at "
            f"{a.image_size} px, top-{a.k}; 2-core shared CPU, load average {os.getloadavg()[0]:.1f}, {datetime.date.today()}")
    md = [head, "", f"Command: `.venv/bin/python benchmarks/rerank.py {cmd}`", "",
          "| method | E | M | H | offline s | ms/query |", "|---|---|---|---|---|---|"]
    md += [f"| {r['method']} | {r['easy']:.2f} | {r['medium']:.2f} | {r['hard']:.2f} | {r['offline_s']:.2f} | {r['ms_per_query']:.2f} |" for r in rows]
    if a.distractors:
        rng = np.random.default_rng(0); i, j = rng.integers(0, len(X), (2, a.distractors))
        Dx = X[i] + X[j] + 0.5 * rng.standard_normal((a.distractors, X.shape[1])).astype(np.float32) / np.sqrt(X.shape[1])
        Xd = np.concatenate([X, Dx / np.linalg.norm(Dx, axis=1, keepdims=True)]).astype(np.float32)
        rd = run(Q, Xd, a.k, None, mem=True)
        md += ["", f"With {a.distractors:,} distractor rows ({len(Xd):,} in the database; peak = numpy memory of the online step for all {len(Q)} queries):", "",
               "| method | offline s | ms/query | peak MiB (all queries) |", "|---|---|---|---|"]
        md += [f"| {r['method']} | {r['offline_s']:.2f} | {r['ms_per_query']:.2f} | {r['peak_mib']:.1f} |" for r in rd]
    text = '\n'.join(md); print(text)
    if a.append_results:
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'RESULTS.md')
        with open(path, 'a') as f: f.write('\n## rerank (`benchmarks/rerank.py`)\n\n' + text + '\n')

if __name__ == '__main__': main()
