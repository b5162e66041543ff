"""`make reproduce`: the thesis tables on the real data sets (grids/real/*.yaml): check the inputs, then Snakemake.

    python tools/reproduce.py [--check] [--cores N] [GRID ...]   (default: the grids in REAL_GRIDS below)

Glue shared by `nbs/experiments/reproduce.ipynb` (one grid point) and its aggregation
`nbs/experiments/aggregate/aggregate_reproduce.ipynb` (they import this file from tools/):

- `missing`/`message`: what a point needs on disk -- the data sets as soi.download's catalogue lists them (URLs, where
  each file goes), the checkpoint as grids/real/expected.yaml lists it -- and one message naming every missing file,
  where to get it and where it goes. `main` prints it and exits 2 before anything runs.
- `compare`: measured E/M/H mAP beside the published values of expected.yaml, Δ and ✓/✗ (|Δ| <= tolerance).
- `write_fixture`, `PeerNet`: tiny data sets in the official layouts and SOLAR/cirtorch-layout checkpoints of a
  ResNet-18, for the smoke run and tests/test_reproduce.py.
"""
from __future__ import annotations
import argparse, fcntl, math, os, subprocess, sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path: sys.path.insert(0, str(ROOT))
REAL_GRIDS = ['grids/real/solar.yaml', 'grids/real/cirtorch.yaml', 'grids/real/solar_r1m.yaml']
PROTOCOLS = ('E', 'M', 'H')

def resolve(path) -> Path:
    "`path` as given when absolute, else relative to the project root (grids name files from the root)."
    p = Path(path)
    return p if p.is_absolute() else ROOT/p

def load_expected(path) -> dict:
    "grids/real/expected.yaml (or a fixture's): {'tolerance', 'models': {name: spec}, 'cost'}; checked."
    import yaml
    p = resolve(path)
    if not p.is_file(): raise FileNotFoundError(f"expected: {p} not found (the published values, grids/real/expected.yaml)")
    e = yaml.safe_load(p.read_text()) or {}
    for k in ('tolerance', 'models'):
        if k not in e: raise ValueError(f"{p}: needs a `{k}:` entry")
    for name, s in e['models'].items():
        miss = {'file', 'url', 'format', 'scales', 'image_size', 'expected', 'source'} - set(s)
        if miss: raise ValueError(f"{p}: model {name!r} lacks {sorted(miss)}")
        s['scales'] = [float(eval(str(x), {'__builtins__': {}}, {'sqrt': math.sqrt})) for x in s['scales']]   # '2**0.5' etc.
    return e

def model_spec(exp:dict, model:str) -> dict:
    if model not in exp['models']: raise ValueError(f"model: {model!r} is not in the expected file; use one of {sorted(exp['models'])}")
    return exp['models'][model]

def soi_checkpoint_path(spec:dict, data:Path) -> Path:
    "Where `soi import-checkpoint` puts the converted file: <data>/networks/<stem>-soi.pth."
    return Path(data)/'networks'/f"{spec['file'].split('.')[0]}-soi.pth"

# ---------------------------------------------------------------- what is missing, and the message
def _dataset_missing(name:str, data:Path) -> list[dict]:
    "The catalogue files of data set `name` that are not in place (empty when the set is usable)."
    from soi.download import DATASETS, MARKER
    split, remotes = DATASETS[name]
    d = Path(data)/split/name
    if (d/MARKER).is_file(): return []                      # `soi download` finished it
    present = lambda r: (d/r.dest).is_dir() and any((d/r.dest).iterdir()) if r.unpack else (d/r.dest).is_file()
    if all(present(r) for r in remotes): return []           # placed by hand
    return [{'item': name, 'url': r.url, 'dest': d/r.dest, 'unpack': r.unpack, 'file': r.filename}
            for r in remotes if not present(r)]

def missing(params:dict, # a point's parameters: dataset, distractors, model, expected
            data, # the data root
           ) -> list[dict]:
    "Every file the point needs that is absent: {'item', 'url', 'dest', 'unpack', 'file'}."
    data = Path(data); exp = load_expected(params['expected']); spec = model_spec(exp, params['model'])
    out = _dataset_missing(params['dataset'], data)
    if params.get('distractors'): out += _dataset_missing(params['distractors'], data)
    peer = data/'networks'/spec['file']
    if not peer.is_file() and not soi_checkpoint_path(spec, data).is_file():
        out.append({'item': params['model'], 'url': spec['url'], 'dest': peer, 'unpack': False, 'file': spec['file'],
                    'note': spec.get('url_source', '')})
    return out

def message(miss:list[dict], # from `missing` (several points: duplicates are dropped)
            data, # the data root
           ) -> str:
    "One message: per data set or checkpoint, each file to download, from where, and where it goes."
    seen, groups = set(), {}
    for m in miss:
        if (m['url'], str(m['dest'])) in seen: continue
        seen.add((m['url'], str(m['dest']))); groups.setdefault(m['item'], []).append(m)
    from soi.download import DATASETS
    lines = [f"missing inputs under the data root {data} (set SOI_DATA or --data to use another):"]
    for item, ms in groups.items():
        how = (f"`soi download {item} --data {data}` fetches, checks and unpacks them" if item in DATASETS else
               f"{ms[0].get('note') or 'the published checkpoint'}; the notebook converts it with `soi import-checkpoint`")
        lines.append(f"  {item} ({how}):")
        arch = [m for m in ms if m['unpack']]
        if len(arch) > 3:   # R1M: 100 archives into one folder
            base = arch[0]['url'].rsplit('/', 1)[0]
            lines.append(f"    {len(arch)} archives {arch[0]['file']} ... {arch[-1]['file']} from {base}/ -> unpack into {arch[0]['dest']}/")
            ms = [m for m in ms if not m['unpack']]
        for m in ms:
            lines.append(f"    {m['url']} -> " + (f"unpack into {m['dest']}/" if m['unpack'] else str(m['dest'])))
    lines.append("then run `make reproduce` again; without the 1M distractors: "
                 "make reproduce REAL_GRIDS='grids/real/solar.yaml grids/real/cirtorch.yaml'")
    return '\n'.join(lines)

# ---------------------------------------------------------------- the comparison with the published values
def compare(measured:dict, # {data set key: {'E','M','H': mAP in %}}
            published:dict, # {data set key: {'E'|'M'|'H': published mAP in %}} (protocols may be absent)
            tol:float, # the agreement required, in mAP points
           ) -> list[dict]:
    "Rows: data set, protocol, mAP, published (nan: none), Δ = mAP - published, and `within ±tol`: ✓ when |Δ| <= tol, ✗ else, — without a value."
    rows = []
    for key, v in measured.items():
        for p in PROTOCOLS:
            pub = published.get(key, {}).get(p)
            d = float('nan') if pub is None else v[p] - pub
            rows.append({'data set': key, 'protocol': p, 'mAP': v[p], 'published': float('nan') if pub is None else float(pub),
                         'Δ': d, f'within ±{tol:g}': '—' if pub is None else ('✓' if abs(d) <= tol + 1e-9 else '✗')})
    return rows

# ---------------------------------------------------------------- running
@contextmanager
def locked(store:Path):
    "An exclusive lock on `<store>.lock`: points that share a feature store (R1M) extract it one after the other."
    store = Path(store); store.parent.mkdir(parents=True, exist_ok=True)
    with open(store.with_name(store.name + '.lock'), 'w') as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try: yield
        finally: fcntl.flock(f, fcntl.LOCK_UN)

def todo_images(store:Path, n:int) -> int:
    "How many of the `n` images an extraction into `store` still has to compute (0 when the store is complete)."
    from soi.store import read_manifest, shard_ranges, shard_done
    try: m = read_manifest(store)
    except (FileNotFoundError, ValueError): return n
    if m.get('n_images') != n: return n
    return sum(b - a for k, (a, b) in enumerate(shard_ranges(n, m['shard_size'])) if not shard_done(store, k))

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog='tools/reproduce.py', description=__doc__.split('\n')[0])
    ap.add_argument('grids', nargs='*', help=f"grid files (default: {' '.join(REAL_GRIDS)})")
    ap.add_argument('--check', action='store_true', help='only check the inputs (exit 2 naming what is missing)')
    ap.add_argument('--cores', default=os.environ.get('CORES', '1'), help='Snakemake --cores (default $CORES or 1)')
    ap.add_argument('--snakemake-args', default=os.environ.get('SNAKEMAKE_ARGS', ''), help='more Snakemake arguments')
    a = ap.parse_args(argv)
    from soi.config import get_config
    from soi.workflow import load_grid, expand_grid
    grids = [str(resolve(g)) for g in (a.grids or REAL_GRIDS)]
    data = get_config().data
    try:
        miss = [m for g in grids for p in expand_grid(load_grid(g)).values() for m in missing(p, data)]
    except (FileNotFoundError, ValueError) as e:
        print(f"make reproduce: error: {e}", file=sys.stderr); return 2
    if miss:
        print(f"make reproduce: {message(miss, data)}", file=sys.stderr); return 2
    if a.check: print('make reproduce: every input is in place'); return 0
    cmd = [str(Path(sys.executable).parent/'snakemake'), '-s', str(ROOT/'Snakefile'), '--cores', str(a.cores),
           '--config', f"grids={','.join(grids)}", 'extras=0', *a.snakemake_args.split()]
    return subprocess.call(cmd, cwd=ROOT, env={**os.environ, 'MPLBACKEND': 'Agg'})

# ---------------------------------------------------------------- fixtures (smoke run, tests)
def _peer_classes():
    import torch, torchvision
    from torch import nn
    class PeerSOA(nn.Module):
        "SOLAR's SOABlock (solar_global/networks/networks.py): f, g = conv+BN+ReLU, h, v convs, softmax attention, residual."
        def __init__(self, C, k):
            super().__init__(); self.mid = C // k
            self.f = nn.Sequential(nn.Conv2d(C, self.mid, 1), nn.BatchNorm2d(self.mid), nn.ReLU())
            self.g = nn.Sequential(nn.Conv2d(C, self.mid, 1), nn.BatchNorm2d(self.mid), nn.ReLU())
            self.h, self.v = nn.Conv2d(C, self.mid, 1), nn.Conv2d(self.mid, C, 1)
        def forward(self, x):
            B, C, H, W = x.shape
            f, g, h = (m(x).view(B, self.mid, H * W) for m in (self.f, self.g, self.h))
            a = torch.softmax(self.mid ** -.5 * torch.bmm(f.permute(0, 2, 1), g), -1)
            return self.v(torch.bmm(a, h.permute(0, 2, 1)).permute(0, 2, 1).view(B, self.mid, H, W)) + x
    class PeerNet(nn.Module):
        "cirtorch's ImageRetrievalNet / SOLAR's network on a ResNet-18 in the peers' module layouts: GeM, L2, whitening FC, L2."
        def __init__(self, fmt:str, seed:int=0):
            super().__init__()
            torch.manual_seed(seed); r = torchvision.models.resnet18(); self.fmt = fmt
            if fmt == 'cirtorch': self.features = nn.Sequential(*list(r.children())[:-2])
            elif fmt == 'solar':
                F = self.features = nn.Module()
                F.conv1, F.conv2_x = nn.Sequential(r.conv1, r.bn1), nn.Sequential(r.relu, r.maxpool, r.layer1)
                F.conv3_x, F.conv4_x, F.conv5_x = r.layer2, r.layer3, r.layer4
                F.soa4, F.soa5 = PeerSOA(256, 4), PeerSOA(512, 2)
            else: raise ValueError(f"fmt: {fmt!r}; use 'solar' or 'cirtorch'")
            self.pool = nn.Module(); self.pool.p = nn.Parameter(torch.ones(1) * 3.0)
            self.whiten = nn.Linear(512, 512)
            g = torch.Generator().manual_seed(seed)
            with torch.no_grad():   # BatchNorm parameters and statistics random too, so a swapped key would show
                for m in self.modules():
                    if isinstance(m, nn.BatchNorm2d):
                        for t, lo in ((m.weight, .75), (m.running_var, .75)): t.copy_(torch.rand(t.shape, generator=g) * .5 + lo)
                        for t in (m.bias, m.running_mean): t.copy_(torch.randn(t.shape, generator=g) * .05)
            self.eval()
        def forward(self, x):
            if self.fmt == 'cirtorch': o = self.features(x)
            else:
                F = self.features
                o = F.soa5(F.conv5_x(F.soa4(F.conv4_x(F.conv3_x(F.conv2_x(F.conv1(x)))))))
            l2 = lambda v: v / (v.norm(dim=1, keepdim=True) + 1e-6)
            p = self.pool.p
            return l2(self.whiten(l2(o.clamp(min=1e-6).pow(p).mean((2, 3)).pow(1. / p))))
    return PeerNet

def PeerNet(fmt:str, seed:int=0):
    "A ResNet-18 retrieval network in SOLAR's or cirtorch's module layout, random weights (`seed`)."
    return _peer_classes()(fmt, seed)

def write_peer_checkpoint(path, fmt:str, seed:int=0) -> Path:
    "Save a `PeerNet` as the peers do: {'meta': {...}, 'state_dict': ...}."
    import torch
    net = PeerNet(fmt, seed); path = Path(path); path.parent.mkdir(parents=True, exist_ok=True)
    meta = {'architecture': 'resnet18', 'pooling': 'gem', 'local_whitening': False, 'regional': False, 'whitening': True,
            'mean': [0.485, 0.456, 0.406], 'std': [0.229, 0.224, 0.225], 'outputdim': 512,
            **({'soa': True, 'soa_layers': '45'} if fmt == 'solar' else {})}
    torch.save({'meta': meta, 'state_dict': net.state_dict(), 'epoch': 1}, path)
    return path

def _smooth(paths, seed:int):
    "Replace each image by a smooth random picture of the same size (noise images all give the same descriptor)."
    import numpy as np
    from PIL import Image
    rng = np.random.default_rng(seed)
    for p in paths:
        size = Image.open(p).size
        Image.fromarray(rng.integers(0, 256, (3, 4, 3), dtype=np.uint8)).resize(size, Image.Resampling.BILINEAR).save(p)

def write_fixture(data, # data root to fill
                  specs:list, # model specs (expected.yaml entries): a peer checkpoint is written for each
                  seed:int=0, # images, ground truth and weights from this seed
                  n_db:int=12, # database images per data set
                  n_q:int=3, # queries per data set
                  n_distractors:int=5, # revisitop1m images
                 ) -> Path:
    "Tiny roxford5k, rparis6k and revisitop1m in the official layouts + peer checkpoints under <data>/networks/."
    from soi.testing import write_revisited_fixture, write_distractors_fixture
    data = Path(data)
    for i, name in enumerate(('roxford5k', 'rparis6k')):
        d = write_revisited_fixture(data, name, n_db, n_q, seed=seed + i)
        _smooth(sorted((d/'jpg').glob('*.jpg')), seed + i)
    d = write_distractors_fixture(data, n_distractors, seed=seed + 2)
    _smooth(sorted((d/'jpg').rglob('*.jpg')), seed + 2)
    for s in specs: write_peer_checkpoint(data/'networks'/s['file'], s['format'], seed)
    return data

if __name__ == '__main__': sys.exit(main())
