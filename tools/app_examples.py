"""Run the search-engine commands on scikit-image's photos and record them for the README (a developer tool).

    python tools/app_examples.py [--work /tmp/soi-photos] [--screenshot]

Writes the photos and edited queries into WORK, runs `soi index build`, adds and deletes a photo, runs it
again (incremental) and once more (nothing to do), then `soi query`, and writes results/app/soi_query.md (the commands and their output, verbatim),
figures/app/montage.png and, with --screenshot, figures/app/search.png (tools/app_screenshot.py).
"""
import argparse, os, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def keep(line:str) -> bool:
    "Drop progress bars, blank lines and warnings from a command's stderr."
    return bool(line.strip()) and '\r' not in line and not re.search(r'\d+%\|', line) and 'warn' not in line.lower()

def soi(*args, cwd) -> str:
    "Run `soi ARGS` in `cwd`; return the command line and its output (progress bars dropped)."
    cmd = [sys.executable, '-c', 'import sys; from soi.cli import main; sys.exit(main(sys.argv[1:]))', *args]
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**os.environ, 'PYTHONPATH': str(ROOT)})
    err = [l for l in r.stderr.splitlines() if keep(l)]
    if r.returncode: sys.exit(f"soi {' '.join(args)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    out = r.stdout.rstrip() + ('\n' + '\n'.join(err) if err else '')
    print(f"$ soi {' '.join(args)}\n{out}", flush=True)
    return f"$ soi {' '.join(args)}\n{out}"

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--work', default='/tmp/soi-photos'); ap.add_argument('--screenshot', action='store_true')
    a = ap.parse_args(); w = Path(a.work); w.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from soi.engine import sample_photos, sample_queries
    if not (w/'photos').is_dir(): sample_photos(w/'photos')
    if not (w/'queries').is_dir(): sample_queries(w/'photos', w/'queries')
    build = ['index', 'build', 'photos', '--out', 'idx', '--model', 'resnet50-gem', '--image-size', '512', '--whiten', 'pca', '--whiten-dim', '16']
    if (w/'idx').exists(): shutil.rmtree(w/'idx')
    for f in ('photos/more/coffee-small.jpg',): (w/f).unlink(missing_ok=True)
    if not (w/'photos/gravel.jpg').exists(): sample_photos(w/'photos', ['gravel'])
    runs = [soi(*build, cwd=w)]
    from PIL import Image                                   # change the folder: one photo added, one deleted
    (w/'photos/more').mkdir(exist_ok=True); im = Image.open(w/'photos/coffee.jpg')
    im.resize((im.width // 2, im.height // 2)).save(w/'photos/more/coffee-small.jpg'); (w/'photos/gravel.jpg').unlink()
    runs += ['$ mkdir photos/more; (a half-size copy of coffee.jpg) > photos/more/coffee-small.jpg; rm photos/gravel.jpg',
             soi(*build, cwd=w), soi(*build, cwd=w),
            soi('query', *sorted(f'queries/{p.name}' for p in (w/'queries').iterdir()), '--index', 'idx', '-k', '3', '--montage', 'montage.png', cwd=w),
            soi('query', 'photos/astronaut.jpg', '--box', '150', '30', '350', '250', '--index', 'idx', '-k', '3', cwd=w),
            soi('query', 'photos/astronaut.jpg', '--box', '150', '30', '350', '250', '--index', 'idx', '-k', '3', '--rerank', 'sv-sift', cwd=w)]
    md = ROOT/'results/app/soi_query.md'; md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text('```text\n' + '\n\n'.join(runs).replace(str(w) + '/', '') + '\n```\n')
    (ROOT/'figures/app').mkdir(parents=True, exist_ok=True); shutil.copy(w/'montage.png', ROOT/'figures/app/montage.png')
    if a.screenshot:
        subprocess.run([sys.executable, str(ROOT/'tools/app_screenshot.py'), '--index', str(w/'idx'), '--query', str(w/'photos/astronaut.jpg'),
                        '--box', '0.29', '0.06', '0.68', '0.49', '--rerank', 'sv-sift'], check=True, env={**os.environ, 'PYTHONPATH': str(ROOT)})
    print('->', md)
