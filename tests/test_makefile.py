"""The Makefile's choice of torch build and FAISS package, by dry runs (`make -n`: nothing is installed)."""
import shutil, subprocess
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(shutil.which('make') is None, reason='make is not installed')

def dry(*args):
    "The commands `make -n install` would run, with a venv that does not exist (so every step is listed)."
    r = subprocess.run(['make', '-n', 'install', 'VENV=/nonexistent/venv', *args], cwd=ROOT, capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr

def torch_line(out): return next(l for l in out.splitlines() if 'torch==' in l)
def soi_line(out): return next(l for l in out.splitlines() if ' -e ' in l)

def test_default_is_cuda13_from_pypi_with_faiss_cpu():
    rc, out = dry()
    assert rc == 0, out
    assert 'torch==2.14.1 torchvision==0.29.1' in torch_line(out) and '--index-url' not in torch_line(out)
    assert soi_line(out).endswith('-e ".[dev,faiss]"')
    assert '/nonexistent/venv/.soi-installed-cu130-faiss' in out

@pytest.mark.parametrize('build, faiss, index', [
    ('cpu', 'faiss', 'https://download.pytorch.org/whl/cpu'),
    ('cu126', 'faiss-gpu-cu12', 'https://download.pytorch.org/whl/cu126'),
    ('cu130', 'faiss-gpu', None)])
def test_builds(build, faiss, index):
    rc, out = dry(f'TORCH_BUILD={build}', f'FAISS={faiss}')
    assert rc == 0, out
    assert (f'--index-url {index}' in torch_line(out)) if index else ('--index-url' not in torch_line(out))
    assert soi_line(out).endswith(f'-e ".[dev,{faiss}]"')
    assert f'.soi-installed-{build}-{faiss}' in out

@pytest.mark.parametrize('arg, msg', [('TORCH_BUILD=cu118', 'choose cu130'), ('FAISS=faiss-gpu-cu11', 'choose faiss')])
def test_unknown_choices_fail(arg, msg):
    rc, out = dry(arg)
    assert rc != 0 and msg in out
