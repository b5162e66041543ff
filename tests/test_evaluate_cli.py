"""`soi evaluate` through the installed entry point: the table on stdout, exit code 2 and one clear line on bad input."""
import pickle, subprocess, sys
from pathlib import Path
import numpy as np
import pytest
from soi.testing import assert_refused

SOI = [sys.executable, '-c', 'import sys; from soi.cli import main; sys.exit(main())']

@pytest.fixture
def root(tmp_path):
    "A data root with a 2-query revisited gnd over 6 database images (easy/hard/junk), and ranking files."
    d = tmp_path/'test'/'rmini'; d.mkdir(parents=True)
    gnd = [{'bbx': [0, 0, 5, 5], 'easy': [1], 'hard': [2], 'junk': [0]}, {'bbx': None, 'easy': [3], 'hard': [], 'junk': []}]
    imlist = [f'im{i}' for i in range(6)]
    with open(d/'gnd_rmini.pkl', 'wb') as f: pickle.dump({'imlist': imlist, 'qimlist': imlist[:2], 'gnd': gnd}, f)
    # query 0: junk 0 first, then hard 2, easy 1 -> Easy AP 1 (2 is junk there); query 1: easy 3 second -> AP (0+1/2)/2
    ranks = np.array([[0, 2, 1, 3, 4, 5], [0, 3, 1, 2, 4, 5]])
    np.save(tmp_path/'r.npy', ranks); np.save(tmp_path/'rT.npy', ranks.T); np.save(tmp_path/'r6.npy', ranks + 1)
    return tmp_path

def soi(*args, cwd):
    return subprocess.run(SOI + ['evaluate', *map(str, args)], cwd=cwd, capture_output=True, text=True)

def test_table(root):
    r = soi('--dataset', 'rmini', '--ranks', root/'r.npy', '--data', root, cwd=root)
    assert r.returncode == 0, r.stderr
    rows = {l.split()[0]: l.split()[1:] for l in r.stdout.splitlines()[2:]}
    # Easy: q0 AP 1, q1 AP 1/4 -> 62.50; Medium: q0 ranks 2, 1 at junk-free 0, 1 -> 1, q1 1/4 -> 62.50;
    # Hard: q0 only (q1 has no hard positive): 2 at junk-free rank 0 (0 and 1 ignored) -> 100.00
    assert rows['Easy'][0] == '62.50' and rows['Medium'][0] == '62.50' and rows['Hard'][0] == '100.00'

@pytest.mark.parametrize('ranks, msg', [('rT.npy', '--layout revisitop'),   # revisitop's layout without the flag
                                        ('r6.npy', '[0, 6)')])               # 1-based indices
def test_bad_input_exits_2(root, ranks, msg):
    "The full case list (missing files and data sets, --layout, --kappas) is tested in nbs/04_evaluate.ipynb."
    r = soi('--dataset', 'rmini', '--data', root, '--ranks', root/ranks, cwd=root)
    assert_refused(r, msg)   # exit 2, one line on stderr naming the problem, no traceback
