"""`make reproduce` (tools/reproduce.py, grids/real/*.yaml, nbs/experiments/reproduce.ipynb) end to end on fixtures.

A tiny fake roxford5k and revisitop1m in the official layouts and a ResNet-18 saved in SOLAR's own module layout go
through the path the real files will take: the input check, Snakemake, the point notebook (import-checkpoint,
multi-scale feature stores, exact search over database + distractors, revisited E/M/H) and the aggregation's table.
The descriptors are checked against the peer network's own forward, the mAPs against an independent ranking of the
stored rows, and ✓/✗ against an expected-values file written for the fixture from the measured values.
"""
import json, math, os, subprocess, sys
from pathlib import Path
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT/'tools'))
import reproduce as R

SPEC = {'file': 'fixture-solar.pth', 'url': 'http://example.invalid/fixture-solar.pth', 'format': 'solar',
        'scales': [1, '2**0.5', '2**-0.5'], 'image_size': 1024, 'msp': 1, 'source': 'a fixture'}
GRID = """notebook: nbs/experiments/reproduce.ipynb
params: {{smoke: false, model: fixture-solar, expected: {expected}, threads: 1, workers: 0}}
axes:
  dataset: [roxford5k]
  distractors: [revisitop1m]
aggregate:
  notebook: nbs/experiments/aggregate/aggregate_reproduce.ipynb
  tables: [fixture/solar_r1m]
"""

def _expected(path, published, tol=0.1):
    import yaml
    path.write_text(yaml.safe_dump({'tolerance': tol, 'models': {'fixture-solar': {**SPEC, 'expected': published}}}, allow_unicode=True))
    return path

def _env(tmp):
    return {**os.environ, 'SOI_DATA': str(tmp/'data'), 'SOI_RESULTS': str(tmp/'results'), 'SOI_FIGURES': str(tmp/'figures'),
            'MPLBACKEND': 'Agg', 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', '')}

def _run(tmp, *args):
    return subprocess.run([sys.executable, str(ROOT/'tools'/'reproduce.py'), *args], capture_output=True, text=True,
                          env=_env(tmp), cwd=ROOT)

def _peer_descriptors(paths, bbxs, scales, seed=0):
    "Multi-scale descriptors by the peer network's own forward (cirtorch's extract_ms: mean over scales, L2)."
    import torch, torch.nn.functional as F
    from soi.data import load_image
    net = R.PeerNet('solar', seed)
    mean, std = torch.tensor([0.485, 0.456, 0.406])[:, None, None], torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    out = []
    with torch.no_grad():
        for p, b in zip(paths, bbxs):
            x = ((torch.from_numpy(np.array(load_image(p, 1024, b))).permute(2, 0, 1).float() / 255 - mean) / std)[None]
            v = sum(net(x if s == 1 else F.interpolate(x, scale_factor=s, mode='bilinear', align_corners=False)) for s in scales)
            out.append((v / v.norm()).numpy()[0])
    return np.stack(out)

def test_compare_hand_worked():
    rows = R.compare({'a': {'E': 50.0, 'M': 40.0, 'H': 30.0}}, {'a': {'E': 50.1, 'M': 40.11}}, 0.1)
    assert [(r['protocol'], r['within ±0.1']) for r in rows] == [('E', '✓'), ('M', '✗'), ('H', '—')]
    assert math.isclose(rows[1]['Δ'], -0.11) and math.isnan(rows[2]['published']) and math.isnan(rows[2]['Δ'])

@pytest.mark.parametrize('fmt', ['solar', 'cirtorch'])
def test_fixture_checkpoints_are_peer_files(tmp_path, fmt):
    "The fixture checkpoints are read by soi import-checkpoint as the peers' files, and the converted network is the peer's."
    import torch
    from soi.model import load_checkpoint
    from soi.model_import import import_checkpoint
    f = R.write_peer_checkpoint(tmp_path/f'{fmt}.pth', fmt, seed=2)
    net, extra = load_checkpoint(import_checkpoint(f, tmp_path/'soi.pth'))
    assert extra['imported_from']['format'] == fmt and net.config.soa_layers == (('layer3', 'layer4') if fmt == 'solar' else ())
    x = torch.rand(2, 3, 72, 56)
    with torch.no_grad(): np.testing.assert_allclose(net.eval()(x).numpy(), R.PeerNet(fmt, 2)(x).numpy(), atol=1e-5)

def test_missing_inputs_named_exit_2(tmp_path):
    "An empty data root: every file of the real grids named with its address and destination, exit 2, no traceback."
    r = _run(tmp_path)
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr
    d = tmp_path/'data'
    for w in ('gnd_roxford5k.pkl', 'oxbuild_images-v1.tgz', 'paris_2-v1.tgz', 'revisitop1m.100.tar.gz', 'revisitop1m.txt',
              f'{d}/test/roxford5k/jpg/', f'{d}/networks/resnet101-solar-best.pth', 'fznpeayct6btel2og2wjjgvqw0ziqnk4.pth',
              f'{d}/networks/gl18-tl-resnet101-gem-w-a4d43db.pth', 'http://cmp.felk.cvut.cz/cnnimageretrieval/data/networks/gl18/',
              'soi download roxford5k'):
        assert w in r.stderr, (w, r.stderr)
    # data present, the checkpoint absent: only the checkpoint is named
    R.write_fixture(d, [])
    r = _run(tmp_path, 'grids/real/solar.yaml')
    assert r.returncode == 2 and 'resnet101-solar-best.pth' in r.stderr and 'gnd_' not in r.stderr, r.stderr
    R.write_peer_checkpoint(d/'networks'/'resnet101-solar-best.pth', 'solar')
    r = _run(tmp_path, '--check', 'grids/real/solar.yaml', 'grids/real/solar_r1m.yaml')
    assert r.returncode == 0, r.stderr

def test_reproduce_end_to_end_on_fixtures(tmp_path):
    from soi.data import open_revisited, open_distractors
    from soi.evaluate import evaluate_revisited
    from soi.store import load_features
    import pandas as pd
    data = tmp_path/'data'
    R.write_fixture(data, [SPEC], seed=1)
    # independently: the peer network's own multi-scale descriptors, a float64 ranking of database + distractors
    ds = open_revisited('roxford5k', data); scales = [1, 2 ** .5, 2 ** -.5]
    Xp = np.vstack([_peer_descriptors(ds.db_paths, [None] * 12, scales, 1),
                    _peer_descriptors(open_distractors('revisitop1m', data), [None] * 5, scales, 1)]).astype(np.float64)
    Qp = _peer_descriptors(ds.query_paths, ds.bbxs, scales, 1).astype(np.float64)
    S = Qp @ Xp.T
    assert np.diff(np.sort(S, 1), axis=1).min() > 1e-6, 'near-tied scores: the fixture cannot fix one ranking'
    res = evaluate_revisited(np.argsort(-S, 1), ds.gnd)
    v = {p[0].upper(): 100 * res[p]['mAP'] for p in ('easy', 'medium', 'hard')}
    # values made for the fixture: E within 0.1 (✓), M 0.3 off (✗), H not published (—)
    exp = _expected(tmp_path/'expected.yaml', {'roxford5k+revisitop1m': {'E': v['E'] + 0.08, 'M': v['M'] - 0.3}, 'roxford5k': {'E': 0.0}})
    grid = tmp_path/'fixture.yaml'; grid.write_text(GRID.format(expected=exp))

    r = _run(tmp_path, '--cores', '1', '--snakemake-args', f"-d {tmp_path/'wd'}", str(grid))   # what make reproduce runs
    assert r.returncode == 0, (r.stdout + r.stderr)[-5000:]
    pt = tmp_path/'results'/'runs'/'fixture'/'dataset=roxford5k,distractors=revisitop1m'
    m = json.loads((pt/'metrics.json').read_text())['metrics']
    assert m['key'] == 'roxford5k+revisitop1m' and m['n_db'] == 12 + 5 and m['checkpoint']['format'] == 'solar'
    for p in 'EMH': assert math.isclose(m['mAP'][p], v[p], abs_tol=1e-9), (p, m['mAP'], v)
    # the stored rows (float16) are the peer's descriptors
    feat = data/'features'/'reproduce'/'fixture-solar'
    (X, mx), (Q, mq), (D, md) = (load_features(feat/s) for s in ('roxford5k/db', 'roxford5k/queries', 'revisitop1m'))
    assert (mx['ids'] == np.arange(12)).all() and (mq['ids'] == np.arange(3)).all() and (md['ids'] == np.arange(5)).all()
    np.testing.assert_allclose(np.vstack([X, D]), Xp, atol=3e-3); np.testing.assert_allclose(Q, Qp, atol=3e-3)

    # the table: columns, values, Δ and ✓/✗/—
    tab = tmp_path/'results'/'tables'/'fixture'
    md = (tab/'solar_r1m.md').read_text().splitlines()
    assert md[0] == '| model | data set | protocol | mAP | published | Δ | within ±0.1 |', md[0]
    assert [l.split('|')[-2].strip() for l in md[2:]] == ['✓', '✗', '—'], md
    t = pd.read_csv(tab/'solar_r1m.csv')
    assert list(t.columns) == ['model', 'data set', 'protocol', 'mAP', 'published', 'Δ', 'within ±0.1']
    assert list(t['protocol']) == ['E', 'M', 'H'] and set(t['data set']) == {'roxford5k+revisitop1m'}
    assert list(t['within ±0.1']) == ['✓', '✗', '—']
    np.testing.assert_allclose(t['mAP'], [v['E'], v['M'], v['H']], atol=1e-9)
    np.testing.assert_allclose(t['Δ'][:2], [-0.08, 0.3], atol=1e-9)
    assert math.isnan(t['published'][2]) and md[4].split('|')[5].strip() == '—'
    tim = pd.read_csv(tab/'solar_r1m_timing.csv')
    assert tim['distractors images computed'][0] == 5 and tim['db images computed'][0] == 12

@pytest.mark.skipif(__import__('shutil').which('make') is None, reason='make is not installed')
def test_make_reproduce_runs_the_tool_over_the_real_grids():
    "`make reproduce` (dry run: nothing installed or run) calls tools/reproduce.py over REAL_GRIDS, by default all of grids/real/."
    dry = lambda *a: subprocess.run(['make', '-n', 'reproduce', 'VENV=/nonexistent/venv', *a], cwd=ROOT, capture_output=True, text=True)
    r = dry()
    line = next(l for l in r.stdout.splitlines() if 'tools/reproduce.py' in l)
    assert line.startswith('/nonexistent/venv/bin/python tools/reproduce.py --cores 2') and line.endswith(' '.join(R.REAL_GRIDS)), line
    assert sorted(R.REAL_GRIDS) == sorted(str(p.relative_to(ROOT)) for p in (ROOT/'grids'/'real').glob('*.yaml') if p.stem != 'expected')
    line = next(l for l in dry('REAL_GRIDS=grids/real/solar.yaml', 'CORES=3').stdout.splitlines() if 'tools/reproduce.py' in l)
    assert line.endswith('--cores 3 --snakemake-args="" grids/real/solar.yaml'), line
