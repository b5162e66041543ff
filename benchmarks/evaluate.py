"""Benchmark: soi's vectorised revisited evaluation vs a straightforward per-query loop (revisitop's definition).

    python benchmarks/evaluate.py                 # 70 queries x 1,001,001 images (ROxford5k + R1M size)
    python benchmarks/evaluate.py --n-db 100000   # a quicker run

Both implementations get the same rankings and ground truth; the script asserts they give the same AP for
every query and protocol, the same mAP and mP@k, then prints one table of times and speed-ups.
"""
import argparse, os, time
import numpy as np
from soi.evaluate import compute_map, compute_map_loop, evaluate_revisited, format_revisited, PROTOCOLS

def make_case(n_db:int, nq:int, seed:int):
    "Revisited-style gnd with a few hundred annotated images per query, ranked near the top with noise."
    rng = np.random.default_rng(seed)
    ranks, gnd = np.empty((nq, n_db), np.int64), []
    for q in range(nq):
        n_e, n_h, n_j = rng.integers(20, 200), rng.integers(20, 300), rng.integers(50, 300)
        ann = rng.choice(n_db, n_e + n_h + n_j, replace=False)
        gnd.append({'bbx': None, 'easy': ann[:n_e], 'hard': ann[n_e:n_e + n_h], 'junk': ann[n_e + n_h:]})
        # positions of the annotated images: mostly in the top ~2 x |annotated|, some far down the list
        depth = np.where(rng.random(len(ann)) < 0.9, rng.exponential(2 * len(ann), len(ann)), rng.uniform(0, n_db, len(ann)))
        taken = np.zeros(n_db, bool); slots = []
        for p in np.minimum(depth.astype(np.int64), n_db - 1):   # first free slot at or after p (few collisions)
            while taken[p]: p = (p + 1) % n_db
            taken[p] = True; slots.append(p)
        rest = np.ones(n_db, bool); rest[ann] = False
        ranks[q, slots] = rng.permutation(ann)
        ranks[q, ~taken] = rng.permutation(np.flatnonzero(rest))
    return ranks, gnd

def protocol_gnd(gnd, p:str) -> list:
    "The {'ok', 'junk'} ground truth of protocol `p` built as revisitop's example_evaluate.py does."
    keys = {'easy': (('easy',), ('junk', 'hard')), 'medium': (('easy', 'hard'), ('junk',)), 'hard': (('hard',), ('junk', 'easy'))}[p]
    return [{'ok': np.concatenate([g[k] for k in keys[0]]), 'junk': np.concatenate([g[k] for k in keys[1]])} for g in gnd]

def best_of(f, repeat:int):
    "(result, (best wall time, best CPU time) in s) of `repeat` calls; CPU time is less sensitive to a busy machine."
    ts = []
    for _ in range(repeat):
        t, c = time.perf_counter(), time.process_time(); out = f()
        ts.append((time.perf_counter() - t, time.process_time() - c))
    return out, (min(w for w, _ in ts), min(c for _, c in ts))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n-db', type=int, default=1_001_001, help='database size (default: ROxford5k + R1M)')
    ap.add_argument('--queries', type=int, default=70, help='number of queries (default 70, as ROxford5k)')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--repeat', type=int, default=3, help='runs of the vectorised versions (best time is reported)')
    a = ap.parse_args(argv)
    kappas = (1, 5, 10)

    t = time.perf_counter(); ranks, gnd = make_case(a.n_db, a.queries, a.seed); t_make = time.perf_counter() - t
    n_ann = np.mean([sum(len(g[k]) for k in ('easy', 'hard', 'junk')) for g in gnd])
    R = ranks.T   # revisitop's (n_db, n_queries) layout for the loop (a view: its columns are our rows)

    loop, t_loop = best_of(lambda: {p: compute_map_loop(R, protocol_gnd(gnd, p), kappas) for p in PROTOCOLS}, 1)
    soi, t_soi = best_of(lambda: evaluate_revisited(ranks, gnd, kappas, n_db=a.n_db), a.repeat)
    per, t_per = best_of(lambda: {p: compute_map(ranks, protocol_gnd(gnd, p), kappas, n_db=a.n_db) for p in PROTOCOLS}, a.repeat)

    for p in PROTOCOLS:   # same numbers, query by query
        m, aps, mpr, _ = loop[p]
        np.testing.assert_allclose(soi[p]['aps'], aps, rtol=0, atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(per[p][1], aps, rtol=0, atol=1e-12, equal_nan=True)
        assert abs(soi[p]['mAP'] - m) < 1e-12 and abs(per[p][0] - m) < 1e-12, (p, soi[p]['mAP'], m)
        np.testing.assert_allclose(list(soi[p]['mP@k'].values()), mpr, rtol=0, atol=1e-12)

    maps = lambda res: ' / '.join(f"{100 * res[p]:.2f}" for p in PROTOCOLS)
    rows = [('per-query loop (revisitop definition), 3 protocols', t_loop, maps({p: loop[p][0] for p in PROTOCOLS})),
            ('soi compute_map, once per protocol', t_per, maps({p: per[p][0] for p in PROTOCOLS})),
            ('soi evaluate_revisited (one scan, 3 protocols)', t_soi, maps({p: soi[p]['mAP'] for p in PROTOCOLS}))]
    print(f"revisited evaluation: {a.queries} queries x {a.n_db:,} database images, ranks int64 "
          f"({ranks.nbytes / 2**20:,.0f} MiB), ~{n_ann:.0f} annotated images per query, kappas {kappas}")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; case built in {t_make:.1f} s; "
          f"soi times are the best of {a.repeat} runs")
    print()
    print(f"| {'implementation':<52} | {'wall (s)':>8} | {'CPU (s)':>8} | {'speed-up':>8} | {'mAP E / M / H (%)':<21} |")
    print(f"|{'-' * 54}|{'-' * 9}:|{'-' * 9}:|{'-' * 9}:|{'-' * 23}|")
    for name, (w, c), m in rows:
        print(f"| {name:<52} | {w:>8.3f} | {c:>8.3f} | {t_loop[0] / w:>7.1f}x | {m:<21} |")
    print('speed-up = wall time of the loop / wall time')
    print()
    print('same AP for every query and protocol, same mAP and mP@k (to 1e-12):', format_revisited(soi, mpk=True))

if __name__ == '__main__':
    main()
