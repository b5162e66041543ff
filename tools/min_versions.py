"""Test the declared floors: install the minimum version of every dependency into a separate venv and run a fast
subset of the notebooks there (`make test-min`, run by `make test`).

    python tools/min_versions.py --torch-from .venv            # venv in .venv-min, reused while the floors stand

Every `name>=X` of `[project] dependencies` and of the `test` and `faiss` extras in pyproject.toml is installed as
`name==X` (wheels only). torch and torchvision are the exception: their wheels are large (the CUDA build is ~3 GB
with its libraries) and only the pinned 2.14.1 is available offline here, so the venv sees the pinned torch and
torchvision of `--torch-from` (with their own dependencies: triton, the CUDA libraries, sympy, ...) through a
.pth file pointing at symlinks, and pip counts them as installed. The floors of torch and torchvision themselves
are therefore not tested by this run; everything else is. soi is imported from this checkout (PYTHONPATH).
"""
import argparse, hashlib, json, os, re, shutil, subprocess, sys, tempfile, time, tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The subset: the notebooks whose code depends most on the floors (pandas/jinja2 tables, tarfile filters, scipy cg,
# kornia/OpenCV spatial verification, memory-mapped stores, pandas CSVs, fastcore docments, FAISS, the report).
NOTEBOOKS = ['01_core', '01a_report', '03a_data_custom', '02_download', '10_store', '13_index', '15_mining', '18_rerank', '17_spatial',
             '85_doctor']
LINKED = ('torch', 'torchvision')   # taken from --torch-from, not installed at their floors
# Constraints on the test tools only (not on soi): IPython 9 removed pylabtools.backend2gui, which matplotlib 3.8
# (our floor) imports when execnb switches to the inline backend, so the tools get an IPython 8 here.
TOOLING = ['ipython<9']

def norm(name): return re.sub(r'[-_.]+', '-', name).lower()

def floors(pyproject=ROOT/'pyproject.toml', extras=('test', 'faiss')) -> list[str]:
    "`name==floor` for every dependency with a `>=` floor (torch/torchvision kept as ranges: they are linked)."
    p = tomllib.loads(pyproject.read_text())['project']
    reqs = list(p['dependencies']) + [r for e in extras for r in p['optional-dependencies'][e]]
    out = []
    for r in reqs:
        m = re.match(r'\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)', r); name, spec = m.group(1), m.group(3)
        lo = re.search(r'>=\s*([0-9][^,;\s]*)', spec)
        if norm(name) in LINKED or not lo: out.append(r.split(';')[0].strip()); continue
        out.append(f'{name}=={lo.group(1)}')
    return sorted(set(out), key=str.lower) + TOOLING

LINK_SCRIPT = r'''
import json, re, sys
from importlib.metadata import distribution, PackageNotFoundError
from packaging.requirements import Requirement
norm = lambda n: re.sub(r'[-_.]+', '-', n).lower()
roots, skip = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
seen, todo, tops = set(), list(roots), set()
while todo:
    n = norm(todo.pop())
    if n in seen or (n in skip and n not in roots): continue
    try: d = distribution(n)
    except PackageNotFoundError: continue
    seen.add(n)
    for f in d.files or []:
        top = f.parts[0]
        if top != '..' and not top.endswith('.pth') and top != '__pycache__': tops.add(str(d.locate_file(top)))
    for r in d.requires or []:
        q = Requirement(r)
        if q.marker is None or q.marker.evaluate({'extra': ''}): todo.append(q.name)
print(json.dumps({'dists': sorted(seen), 'paths': sorted(tops)}))
'''

def link_torch(src_venv:Path, venv:Path, skip:set) -> list[str]:
    "Symlink torch, torchvision and their dependency closure (minus `skip`) from `src_venv` into `venv` via a .pth."
    py = src_venv/'bin'/'python'
    out = subprocess.run([str(py), '-c', LINK_SCRIPT, json.dumps(list(LINKED)), json.dumps(sorted(skip))],
                         capture_output=True, text=True, check=True)
    info = json.loads(out.stdout)
    d = venv/'torch-link'; shutil.rmtree(d, ignore_errors=True); d.mkdir()
    for p in info['paths']:
        if Path(p).exists(): (d/Path(p).name).symlink_to(p)
    site = Path(subprocess.run([str(venv/'bin'/'python'), '-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site/'_soi_linked_torch.pth').write_text(str(d) + '\n')
    return info['dists']

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--python', default=sys.executable, help='interpreter that creates the venv')
    ap.add_argument('--torch-from', default=str(ROOT/'.venv'), help='venv whose torch/torchvision are linked')
    ap.add_argument('--venv', default=str(ROOT/'.venv-min'))
    ap.add_argument('--notebooks', nargs='*', default=NOTEBOOKS)
    ap.add_argument('--fresh', action='store_true', help='rebuild the venv even if its floors are unchanged')
    a = ap.parse_args(argv)
    t0, venv, reqs = time.perf_counter(), Path(a.venv), floors()
    key = hashlib.sha256(json.dumps([reqs, str(Path(a.torch_from).resolve())]).encode()).hexdigest()[:16]
    stamp = venv/f'.floors-{key}'
    if a.fresh or not stamp.exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([a.python, '-m', 'venv', str(venv)], check=True)
        linked = link_torch(Path(a.torch_from), venv, {norm(r.split('=')[0].split('>')[0]) for r in reqs})
        print(f'linked from {a.torch_from}: {", ".join(linked)}')
        f = venv/'floors.txt'; f.write_text('\n'.join(reqs) + '\n')
        subprocess.run([str(venv/'bin'/'python'), '-m', 'pip', 'install', '-q', '--disable-pip-version-check',
                        '--only-binary=:all:', '-r', str(f)], check=True)
        stamp.touch()
    t1 = time.perf_counter()
    py = venv/'bin'/'python'
    freeze = subprocess.run([str(py), '-m', 'pip', 'list', '--format=json', '--disable-pip-version-check'],
                            capture_output=True, text=True, check=True).stdout
    have = {norm(d['name']): d['version'] for d in json.loads(freeze)}
    print('floors in use: ' + ', '.join(f"{n}=={have.get(norm(n))}" for n in (re.split(r'[=<>\[ ]', r)[0] for r in reqs)))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, 'PYTHONPATH': str(ROOT), 'MPLBACKEND': 'Agg', 'TORCH_HOME': f'{tmp}/torch',
               'SOI_DATA': f'{tmp}/data', 'PATH': f"{venv/'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
        env.pop('VIRTUAL_ENV', None)
        bad = []
        for nb in a.notebooks:
            t = time.perf_counter()
            r = subprocess.run([str(venv/'bin'/'nbdev-test'), f'nbs/{nb}.ipynb'], cwd=ROOT, env=env, capture_output=True, text=True)
            print(f"  {'ok  ' if r.returncode == 0 else 'FAIL'} {nb} ({time.perf_counter() - t:.0f} s)", flush=True)
            if r.returncode: bad.append(nb); print((r.stdout + r.stderr)[-4000:])
    t2 = time.perf_counter()
    print(f'minimum versions: install {t1 - t0:.0f} s, notebooks {t2 - t1:.0f} s')
    print(f'{len(a.notebooks) - len(bad)} passed, {len(bad)} failed')
    return 1 if bad else 0

if __name__ == '__main__': sys.exit(main())
