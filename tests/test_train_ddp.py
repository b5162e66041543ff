"""DDP: two CPU processes (torchrun, gloo) follow the same loss curve as one process on the same global batch."""
import os, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch

from soi.testing import write_training_fixture
from test_train_resume import fresh_net, tiny_config   # the same tiny network and recipe (tests/ is on sys.path
                                                       # under pytest and when torchrun runs this file)
from soi.train_loop import train

# 4 tuples = 2 per rank; SGD (unlike Adam) sees a wrong gradient scale; update_every=2 covers no_sync
CFG = dict(batch_size=4, epochs=3, query_size=8, optimizer='sgd', lr=0.05, update_every=2,
           amp=False)   # fp32: bf16 autocast (on by default on bf16 CPUs) rounds differently per batch split


def run(out, data):
    "Train once (under torchrun this is one rank of the job)."
    torch.set_num_threads(1); torch.manual_seed(0)
    return train(tiny_config(data, out, **CFG), net=fresh_net())


@pytest.mark.skipif(not torch.distributed.is_available(), reason='torch.distributed not built')
def test_ddp_matches_single_process(tmp_path):
    data = write_training_fixture(tmp_path/'data', name='fixture', n_clusters=8, per_cluster=4).parents[1]
    single = run(tmp_path/'single', data)
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc-per-node', '2',
                        __file__, str(tmp_path/'ddp'), str(data)], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    ddp = pd.read_csv(tmp_path/'ddp'/'steps.csv')
    assert (pd.read_csv(tmp_path/'ddp'/'log.csv')['world'] == 2).all()   # really two processes
    one = pd.DataFrame(single['steps'])
    assert len(ddp) == len(one) == 3 * 2                      # 8 tuples / 4 per batch, 3 epochs
    np.testing.assert_allclose(ddp['loss'], one['loss'], rtol=1e-4, atol=1e-6)
    assert one['loss'].nunique() > 1                           # a curve, not a constant
    s = torch.load(tmp_path/'ddp'/'last.pt', weights_only=False)['model']
    for k, v in single['net'].state_dict().items():
        torch.testing.assert_close(s[k], v, rtol=1e-4, atol=1e-5, msg=k)


if __name__ == '__main__':   # one rank, started by torchrun from the test above
    run(Path(sys.argv[1]), Path(sys.argv[2]))
