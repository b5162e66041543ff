"""Right answers under failure, through the `soi` command (issue 15): broken images in a collection, user errors as
one line + exit 2, crafted data files refused without running anything, a middle shard redone, a full disk."""
import json, os, pickle, shutil, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from _extract_helpers import make_images, write_script, env, store_files
from soi.testing import assert_refused

SOI = [sys.executable, '-c', 'import sys; from soi.cli import main; sys.exit(main())']

def soi(*args, cwd=None, **kw):
    e = {**os.environ, 'OMP_NUM_THREADS': '1', **{k: str(v) for k, v in kw.items()}}
    return subprocess.run(SOI + [str(a) for a in args], cwd=cwd, capture_output=True, text=True, env=e)

EXTRACT = ['--model', 'resnet18-gem', '--image-size', '64', '--workers', '0', '--device', 'cpu']

# --- 1, 2: image ids end to end ------------------------------------------------------------------------------------

def test_mixed_failure_example(tmp_path):
    "32 labelled images, one truncated and one empty JPEG: label mAP 100.00; the top-3 files printed by soi search."
    from soi.testing import write_labelled_collection
    broken = write_labelled_collection(tmp_path/'mix')
    r = soi('extract', '--dataset', tmp_path/'mix', '--out', tmp_path/'st', *EXTRACT, cwd=tmp_path, TORCH_HOME=tmp_path)
    assert r.returncode == 0, r.stderr
    assert '2 failed' in r.stdout and str(broken['truncated'].name) in r.stdout and "under 'failed'" in r.stdout
    r = soi('search', '--features', tmp_path/'st'/'db', '--queries', tmp_path/'st'/'queries', '--k', 100,
            '--out', tmp_path/'r.npy', '--show', 3, '--device', 'cpu', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert '--k 100 is more than the 26 database rows; returning 26 per query' in r.stdout   # clamped, said
    ranks = np.load(tmp_path/'r.npy'); assert ranks.shape == (4, 26) and ranks.min() >= 0
    m = json.loads((tmp_path/'st'/'db'/'manifest.json').read_text())
    bad = {f['index'] for f in m['failed']}
    assert len(bad) == 2 and not bad & set(ranks.ravel().tolist())                 # a failed image is never returned
    shown = [l.split()[1] for l in r.stdout.splitlines() if l.startswith('  ')]
    assert len(shown) == 12 and all(Path(p).parent.name == f'label{i // 3}' for i, p in enumerate(shown))
    r = soi('evaluate', '--dataset', tmp_path/'mix', '--ranks', tmp_path/'r.npy', cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert 'left out of the collection' in r.stdout and 'label mAP   100.00' in r.stdout, r.stdout

def test_corpus_survivors_same_map_as_clean_copy(tmp_path):
    "The reliability corpus as distractors: bad files reported by path and reason, mAP equal to a copy without them."
    from soi.testing import write_labelled_collection, write_reliability_corpus
    write_labelled_collection(tmp_path/'a', broken=False)
    corpus = write_reliability_corpus(tmp_path/'a'/'database'/'zz_corpus')
    shutil.copytree(tmp_path/'a', tmp_path/'b', symlinks=True)
    bad = {n for n, (kind, *_) in corpus.items() if kind == 'fail'}
    for n in bad: os.unlink(tmp_path/'b'/'database'/'zz_corpus'/n)
    res = {}
    for c in 'ab':
        r = soi('extract', '--dataset', tmp_path/c, '--out', tmp_path/f'st{c}', *EXTRACT, cwd=tmp_path, TORCH_HOME=tmp_path)
        assert r.returncode == 0, r.stderr
        m = json.loads((tmp_path/f'st{c}'/'db'/'manifest.json').read_text())
        failed = {Path(f['path']).name: f['reason'] for f in m['failed']}
        assert set(failed) == (bad if c == 'a' else set()), failed
        for n, reason in failed.items(): assert n in reason and corpus[n][1] in reason, reason
        r = soi('search', '--features', tmp_path/f'st{c}'/'db', '--queries', tmp_path/f'st{c}'/'queries',
                '--out', tmp_path/f'r{c}.npy', '--device', 'cpu', cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        r = soi('evaluate', '--dataset', tmp_path/c, '--ranks', tmp_path/f'r{c}.npy', cwd=tmp_path)
        assert r.returncode == 0, r.stderr
        res[c] = [l for l in r.stdout.splitlines() if l.startswith('label mAP')][0]
    assert res['a'] == res['b'], res

# --- 3-6, 9: refused inputs, one line, exit 2 ----------------------------------------------------------------------

@pytest.fixture
def stores(tmp_path):
    "Two tiny hand-written feature stores (db: 6 images, #2 failed; queries: 2) and a revisited gnd over 6 images."
    from soi.store import store_meta, open_store, write_shard, finalize_store
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 8)).astype(np.float32); X /= np.linalg.norm(X, axis=1, keepdims=True)
    sm = store_meta(dict(name='t', config={}, mean=[0, 0, 0], std=[1, 1, 1], outputdim=8), checkpoint='A')
    open_store(tmp_path/'db', sm, [f'im{i}.jpg' for i in range(6)], shard_size=10)
    write_shard(tmp_path/'db', 0, X, [0, 1, 3, 4, 5], failed=[(2, 'im2.jpg: truncated')]); finalize_store(tmp_path/'db')
    for name, ck in (('q', 'A'), ('qB', 'B')):
        open_store(tmp_path/name, dict(sm, checkpoint=ck), ['q0.jpg', 'q1.jpg'], shard_size=10)
        write_shard(tmp_path/name, 0, X[:2], [0, 1]); finalize_store(tmp_path/name)
    d = tmp_path/'data'/'test'/'rmini'; d.mkdir(parents=True)
    gnd = [{'bbx': None, 'easy': [0], 'hard': [2], 'junk': []}, {'bbx': None, 'easy': [1], 'hard': [], 'junk': []}]
    with open(d/'gnd_rmini.pkl', 'wb') as f: pickle.dump({'imlist': [f'im{i}' for i in range(6)], 'qimlist': ['im0', 'im1'], 'gnd': gnd}, f)
    Xn = X.copy(); Xn[3, 1] = np.nan; np.save(tmp_path/'nan.npy', Xn); np.save(tmp_path/'x.npy', X)
    np.save(tmp_path/'x4.npy', X[:, :4]); np.save(tmp_path/'xint.npy', (X * 10).astype(np.int64))
    np.save(tmp_path/'dup.npy', np.array([[0, 0, 1], [1, 3, 4]])); np.save(tmp_path/'empty.npy', np.zeros((2, 0), np.int64))
    return tmp_path

def test_fixed_benchmark_counts_failed_not_retrieved(stores):
    t = stores
    r = soi('search', '--features', t/'db', '--queries', t/'q', '--k', 5, '--out', t/'r.npy', '--device', 'cpu')
    assert r.returncode == 0, r.stderr
    assert 2 not in np.load(t/'r.npy')
    r = soi('evaluate', '--dataset', 'rmini', '--data', t/'data', '--ranks', t/'r.npy')
    assert r.returncode == 0, r.stderr
    assert 'count as not retrieved: im2.jpg' in r.stdout and 'not comparable with published rmini' in r.stdout
    # query 0's hard positive is image 2, which failed: Hard mAP counts it as never retrieved
    assert [l.split()[1] for l in r.stdout.splitlines() if l.startswith('Hard')] == ['0.00'], r.stdout

@pytest.mark.parametrize('case, args, words', [
    ('NaN descriptors', ['search', '--features', 'nan.npy', '--queries', 'x.npy', '--out', 'o.npy'],
     ['--features', 'hold NaN or inf', ': 3']),
    ('wrong feature dimension', ['search', '--features', 'x.npy', '--queries', 'x4.npy', '--out', 'o.npy'], ['(N, 8)']),
    ('wrong feature dtype', ['search', '--features', 'xint.npy', '--queries', 'x.npy', '--out', 'o.npy'], ['float']),
    ('bad FAISS factory', ['search', '--features', 'x.npy', '--queries', 'x.npy', '--factory', 'IVFoo', '--out', 'o.npy'],
     ["--factory 'IVFoo'"]),
    ('stores from different networks', ['search', '--features', 'db', '--queries', 'qB', '--out', 'o.npy'],
     ["checkpoint: 'A' vs 'B'", '--allow-mismatch']),
    ('duplicate ids in a ranking', ['evaluate', '--dataset', 'rmini', '--data', 'data', '--ranks', 'dup.npy'],
     ['row 0 lists database id 0 more than once']),
    ('empty ranking', ['evaluate', '--dataset', 'rmini', '--data', 'data', '--ranks', 'empty.npy'], ['empty']),
    ('read-only output', ['search', '--features', 'x.npy', '--queries', 'x.npy', '--out', '/sys/kernel/soi/o.npy'],
     ['/sys/kernel/soi', 'choose a folder you can write to']),
    ('negative lr', ['train', 'run', '--lr', '-1'], ['--lr']),
    ('batch 0', ['train', 'run', '--batch-size', '0'], ['--batch-size']),
    ('GeM --p -3', ['train', 'run', '--p', '-3'], ['--p: GeM p must be >= 1']),
    ('negative margin', ['train', 'run', '--loss-margin', '-0.5'], ['--loss-margin']),
    ('aqe with id -5', ['rerank', '--method', 'aqe', '--features', 'x.npy', '--queries', 'x.npy', '--ranks', 'neg.npy',
                        '--scores', 'negs.npy', '--out', 'o.npy'], ['>= 0']),
])
def test_refused_with_one_line(stores, case, args, words, monkeypatch):
    "In-process through soi.cli.main (the same handler as the command; the subprocess path is tested above and below)."
    import contextlib, io
    from soi.cli import main
    np.save(stores/'neg.npy', np.array([[0, -5], [1, 2]])); np.save(stores/'negs.npy', np.ones((2, 2), np.float32))
    monkeypatch.chdir(stores); monkeypatch.setenv('TORCH_HOME', str(stores)); monkeypatch.delenv('SOI_DEBUG', raising=False)
    with contextlib.redirect_stderr(io.StringIO()) as e, contextlib.redirect_stdout(io.StringIO()) as o:
        rc = main([str(a) for a in args] + (['--device', 'cpu'] if args[0] == 'search' else []))
    assert_refused(subprocess.CompletedProcess(args, rc, o.getvalue(), e.getvalue()), *words)

def test_mismatch_override(stores):
    r = soi('search', '--features', 'db', '--queries', 'qB', '--out', 'o.npy', '--allow-mismatch', '--device', 'cpu', cwd=stores)
    assert r.returncode == 0 and 'stores differ in checkpoint' in r.stdout, r.stderr

def test_debug_shows_traceback(stores):
    for extra, kw in ((['--debug'], {}), ([], {'SOI_DEBUG': 1})):
        r = soi('search', *extra, '--features', 'nan.npy', '--queries', 'x.npy', '--out', 'o.npy', cwd=stores, **kw)
        assert r.returncode == 1 and 'Traceback' in r.stderr and 'hold NaN' in r.stderr, r.stderr

def test_bad_checkpoints(stores, tmp_path):
    import torch
    from soi.model import create_model, save_checkpoint
    p = save_checkpoint(tmp_path/'ok.pt', create_model('resnet18-gem'))
    (tmp_path/'trunc.pt').write_bytes(p.read_bytes()[:5000]); (tmp_path/'text.pt').write_text('not a checkpoint')
    assert_refused(soi('extract', '--images', tmp_path, '--weights', tmp_path/'trunc.pt', '--out', tmp_path/'o', *EXTRACT[:-2],
                cwd=tmp_path, TORCH_HOME=tmp_path), 'trunc.pt', 'not a readable torch checkpoint')
    import contextlib, io
    from soi.cli import main
    with contextlib.redirect_stderr(io.StringIO()) as e, contextlib.redirect_stdout(io.StringIO()):
        rc = main(['extract', '--images', str(tmp_path), '--weights', str(tmp_path/'text.pt'), '--out', str(tmp_path/'o')])
    assert_refused(subprocess.CompletedProcess([], rc, '', e.getvalue()), 'text.pt', 'not a readable torch checkpoint')

# --- 6: crafted data files run nothing -----------------------------------------------------------------------------

class _Evil:
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))

def test_crafted_pickles_refused(stores):
    t = stores; marker = t/'PWNED'
    d = t/'data'/'test'/'revil'; d.mkdir(parents=True)
    (d/'gnd_revil.pkl').write_bytes(pickle.dumps({'imlist': ['a'], 'qimlist': ['a'], 'gnd': [_Evil(marker)]}))
    np.save(t/'r1.npy', np.array([[0]]))
    assert_refused(soi('evaluate', '--dataset', 'revil', '--data', t/'data', '--ranks', t/'r1.npy'), 'refused to unpickle posix.system', '--trust')
    (t/'pairs.pkl').write_bytes(pickle.dumps({'cids': _Evil(marker), 'qidxs': [0], 'pidxs': [1]}))
    assert_refused(soi('whiten', '--features', t/'db', '--pairs', t/'pairs.pkl', '--out', t/'w.pt'), 'refused to unpickle')
    import torch
    torch.save({'model': _Evil(marker)}, t/'evil.pt')
    assert_refused(soi('train', t/'run', '--resume', t/'evil.pt', '--model', 'resnet18-gem', '--not-pretrained', cwd=t,
                TORCH_HOME=t), 'refused', '--trust')
    assert not marker.exists()                                           # nothing ran
    r = soi('evaluate', '--trust', '--dataset', 'revil', '--data', t/'data', '--ranks', t/'r1.npy')
    assert marker.exists()                                               # only an explicit --trust unpickles it
    # real-format files still load: protocol 2 (Python 2 era) gnd with numpy arrays, and the SfM-120k-format pairs
    d = t/'data'/'test'/'rold'; d.mkdir(parents=True)
    gnd = [{'bbx': np.array([0., 0, 5, 5]), 'easy': np.array([0]), 'hard': np.array([1]), 'junk': np.array([], np.int64)}]
    (d/'gnd_rold.pkl').write_bytes(pickle.dumps({'imlist': ['a', 'b'], 'qimlist': ['a'], 'gnd': gnd}, protocol=2))
    np.save(t/'r2.npy', np.array([[0, 1]]))
    r = soi('evaluate', '--dataset', 'rold', '--data', t/'data', '--ranks', t/'r2.npy')
    assert r.returncode == 0 and 'Medium      100.00' in r.stdout, r.stdout + r.stderr

# --- middle shard, disk full -----------------------------------------------------------------------------------------

def test_middle_shard_redone(tmp_path):
    "A finished store with a middle shard deleted and another corrupted: only those two are recomputed, bit-identical."
    paths = make_images(tmp_path/'img'); script = write_script(tmp_path)          # 13 images -> 7 shards of 2
    full = tmp_path/'full'
    r = subprocess.run([sys.executable, str(script), str(full), '2', *paths], env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    st = tmp_path/'st'; shutil.copytree(full, st)
    (st/'shard-00002.npy').unlink()                                             # deleted
    b = bytearray((st/'ids-00004.npy').read_bytes()); b[-1] ^= 1; (st/'ids-00004.npy').write_bytes(bytes(b))  # corrupted
    stamp = lambda: {p.name: p.stat().st_mtime_ns for p in st.iterdir() if p.name.startswith(('shard-', 'ids-'))}
    before = stamp()
    r = subprocess.run([sys.executable, str(script), str(st), '2', *paths], env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    after = stamp()
    changed = sorted({n.split('-')[1][:5] for n in after if before.get(n) != after[n]})
    assert changed == ['00002', '00004'], changed                                # only the two broken shards
    assert store_files(st) == store_files(full)
    assert (st/'manifest.json').read_bytes() == (full/'manifest.json').read_bytes()

def _small_fs_ok() -> str:
    "'' when this machine can mount a size-limited tmpfs in a user namespace, else the reason."
    if not shutil.which('unshare'): return 'no unshare command'
    r = subprocess.run(['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt'],
                       capture_output=True, text=True)
    return '' if r.returncode == 0 else f'cannot mount a tmpfs in a user namespace: {r.stderr.strip()[:100]}'

@pytest.mark.skipif(bool(_small_fs_ok()), reason=_small_fs_ok() or 'ok')
def test_disk_full_extraction_resumes(tmp_path):
    "Extraction onto a 48 KiB tmpfs stops with one 'no space left' line (exit 2); with room again it resumes bit-identical."
    paths = make_images(tmp_path/'img'); script = write_script(tmp_path)
    full = tmp_path/'full'
    r = subprocess.run([sys.executable, str(script), str(full), '2', *paths], env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    wrap = tmp_path/'wrap.py'
    wrap.write_text("import runpy, sys\nfrom soi.cli import error_message\ntry: runpy.run_path(sys.argv.pop(1), run_name='__main__')\n"
                    "except OSError as e: print(f'soi extract: error: {error_message(e)}', file=sys.stderr); sys.exit(2)\n")
    mnt = tmp_path/'mnt'; mnt.mkdir(); out = tmp_path/'out'
    run = f"{sys.executable} {wrap} {script} {mnt}/st 2 {' '.join(paths)}"
    sh = (f"mount -t tmpfs -o size=48k tmpfs {mnt} && {{ {run}; echo rc1=$?; }} && ls {mnt}/st | wc -l && "
          f"mount -o remount,size=4m {mnt} && {{ {run}; echo rc2=$?; }} && cp -a {mnt}/st {out}")
    r = subprocess.run(['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', sh], env=env(), capture_output=True, text=True)
    assert 'rc1=2' in r.stdout and 'rc2=0' in r.stdout, r.stdout + r.stderr
    err = [l for l in r.stderr.splitlines() if l.strip()]
    assert len(err) == 1 and 'no space left on the device' in err[0] and 'Traceback' not in r.stderr, r.stderr
    assert store_files(out) == store_files(full)
    assert json.loads((out/'manifest.json').read_text()) == json.loads((full/'manifest.json').read_text())

def _in_small_fs(mnt, size_k, first, then, tmp_path):
    "Run `first` with `mnt` a size_k KiB tmpfs, grow it, run `then`, copy the tmpfs to tmp_path/'out'; (stdout, stderr)."
    sh = (f"mount -t tmpfs -o size={size_k}k tmpfs {mnt} && {{ {first}; echo rc1=$?; }} && "
          f"mount -o remount,size=256m {mnt} && {{ {then}; echo rc2=$?; }} && cp -a {mnt} {tmp_path/'out'}")
    r = subprocess.run(['unshare', '--user', '--map-root-user', '--mount', 'sh', '-c', sh], env=env(), capture_output=True, text=True)
    return r.stdout, r.stderr

@pytest.mark.skipif(bool(_small_fs_ok()), reason=_small_fs_ok() or 'ok')
def test_disk_full_toy_build_resumes(tmp_path):
    "`soi toy build` onto a full disk: one line, exit 2; rebuilt with room, the files equal a clean build's."
    SOIC = f"{sys.executable} -c 'import sys; from soi.cli import main; sys.exit(main())'"
    r = soi('toy', 'build', '--preset', 'tiny', '--out', tmp_path/'clean'/'toy')
    assert r.returncode == 0, r.stderr
    mnt = tmp_path/'mnt'; mnt.mkdir()
    cmd = f"{SOIC} toy build --preset tiny --out {mnt}/toy"
    out, err = _in_small_fs(mnt, 256, cmd, cmd, tmp_path)
    assert 'rc1=2' in out and 'rc2=0' in out, out + err
    assert len([l for l in err.splitlines() if l.strip()]) == 1 and 'no space left on the device' in err, err
    files = lambda d: {str(p.relative_to(d)): p.read_bytes() for p in sorted(Path(d).rglob('*')) if p.is_file() and p.name != 'toy.json'}
    assert files(tmp_path/'out'/'toy') == files(tmp_path/'clean'/'toy')
    assert files(tmp_path/'out'/'train') == files(tmp_path/'clean'/'train')

TRAIN = r'''
import sys, torch
sys.path.insert(0, sys.argv[1])
from test_train_resume import tiny_config, fresh_net
from soi.train_loop import train
from soi.cli import error_message
torch.set_num_threads(1)
data, out, resume, save = sys.argv[2:6]
try: res = train(tiny_config(data, out, epochs=2, resume=resume if resume != '-' else None), net=fresh_net(seed=0 if resume == '-' else 1))
except OSError as e: print(f'soi train: error: {error_message(e)}', file=sys.stderr); sys.exit(2)
torch.save(res['net'].state_dict(), save)
'''

@pytest.mark.skipif(bool(_small_fs_ok()), reason=_small_fs_ok() or 'ok')
def test_disk_full_training_resumes(tmp_path):
    "Training whose export folder fills up after epoch 1: one line, exit 2; resumed with room, the weights are identical."
    from soi.testing import write_training_fixture
    import torch
    write_training_fixture(tmp_path/'data', name='fixture', n_clusters=6, per_cluster=4)
    s = tmp_path/'train.py'; s.write_text(TRAIN); here = Path(__file__).parent
    r = subprocess.run([sys.executable, str(s), str(here), str(tmp_path/'data'), str(tmp_path/'full'), '-', str(tmp_path/'full.pt')],
                       env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    size_k = int((tmp_path/'full'/'last.pt').stat().st_size * 1.5 / 1024) + 16   # room for one state, not for the next
    mnt = tmp_path/'mnt'; mnt.mkdir()
    run = lambda resume, save: f"{sys.executable} {s} {here} {tmp_path/'data'} {mnt}/run {resume} {save}"
    out, err = _in_small_fs(mnt, size_k, run('-', tmp_path/'x.pt'), run('last', tmp_path/'resumed.pt'), tmp_path)
    assert 'rc1=2' in out and 'rc2=0' in out, out + err
    assert 'no space left on the device' in err and 'Traceback' not in err, err
    a, b = torch.load(tmp_path/'full.pt'), torch.load(tmp_path/'resumed.pt')
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

# --- SIGKILL during training and toy builds (extraction: test_extract_resume.py) ------------------------------------

def _kill_when(cmd, path, timeout=300):
    "Start `cmd`, SIGKILL it as soon as `path` exists; True if it was killed (False: it finished first)."
    import signal, time
    p = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not Path(path).exists() and p.poll() is None and time.time() - t0 < timeout: time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.wait()
    return p.returncode == -signal.SIGKILL

def test_sigkill_training_resumes(tmp_path):
    "Training killed right after its first checkpoint, then resumed: the same weights as an uninterrupted run."
    from soi.testing import write_training_fixture
    import torch
    write_training_fixture(tmp_path/'data', name='fixture', n_clusters=6, per_cluster=4)
    s = tmp_path/'train.py'; s.write_text(TRAIN); here = Path(__file__).parent
    cmd = lambda out, resume, save: [sys.executable, str(s), str(here), str(tmp_path/'data'), str(out), resume, str(save)]
    r = subprocess.run(cmd(tmp_path/'full', '-', tmp_path/'full.pt'), env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert _kill_when(cmd(tmp_path/'run', '-', tmp_path/'x.pt'), tmp_path/'run'/'last.pt'), 'training ended before the kill'
    assert torch.load(tmp_path/'run'/'last.pt', weights_only=True)['epoch'] == 1
    r = subprocess.run(cmd(tmp_path/'run', 'last', tmp_path/'resumed.pt'), env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    a, b = torch.load(tmp_path/'full.pt'), torch.load(tmp_path/'resumed.pt')
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

def test_sigkill_toy_build_rebuilds(tmp_path):
    "`soi toy build` killed mid-way, then run again: the same files as a clean build."
    r = soi('toy', 'build', '--preset', 'tiny', '--out', tmp_path/'clean'/'toy')
    assert r.returncode == 0, r.stderr
    cmd = SOI + ['toy', 'build', '--preset', 'tiny', '--out', str(tmp_path/'k'/'toy')]
    assert _kill_when(cmd, tmp_path/'k'/'toy'/'jpg'), 'the build ended before the kill'
    r = subprocess.run(cmd, env=env(), capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    files = lambda d: {str(p.relative_to(d)): p.read_bytes() for p in sorted(Path(d).rglob('*')) if p.is_file() and p.name != 'toy.json'}
    assert files(tmp_path/'k'/'toy') == files(tmp_path/'clean'/'toy') and files(tmp_path/'k'/'train') == files(tmp_path/'clean'/'train')
