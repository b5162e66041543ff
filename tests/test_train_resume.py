"""Resume: stopping after epoch k and resuming gives the same weights as an uninterrupted run (CPU, deterministic)."""
from dataclasses import replace
import torch
from soi.testing import TinyNet, write_training_fixture
from soi.pooling import GeM
from soi.train import TrainConfig
from soi.train_loop import train


def tiny_config(data, out, **kw) -> TrainConfig:
    base = dict(export_dir=str(out), training_dataset='fixture', data=str(data), device='cpu', image_size=32,
                mine_image_size=32, neg_num=2, query_size=6, mining_pool=24, batch_size=2, epochs=3, lr=1e-3,
                val_dataset=None, progress=False, batchnorm='frozen')   # frozen: DDP equals one process (test_train_ddp)
    return replace(TrainConfig(), **{**base, **kw})


def fresh_net(seed=0):
    "soi.testing's TinyNet with soi.pooling's GeM, whose p the training clamps and trains at lr x 100."
    return TinyNet(seed=seed, pool=GeM(p=3.0))


def test_resume_equals_uninterrupted(tmp_path):
    torch.set_num_threads(1)
    write_training_fixture(tmp_path/'data', name='fixture', n_clusters=6, per_cluster=4)
    full = train(tiny_config(tmp_path/'data', tmp_path/'full'), net=fresh_net())
    part = train(tiny_config(tmp_path/'data', tmp_path/'part', epochs=2), net=fresh_net())
    assert len(part['history']) == 2
    # a different initial network proves the weights come from the checkpoint, not from the seed
    res = train(tiny_config(tmp_path/'data', tmp_path/'part', resume='last'), net=fresh_net(seed=1))
    a, b = full['net'].state_dict(), res['net'].state_dict()
    assert a.keys() == b.keys()
    for k in a: assert torch.equal(a[k], b[k]), k
    assert [r['loss'] for r in res['steps']] == [r['loss'] for r in full['steps']]
    assert [r['epoch'] for r in res['history']] == [1, 2, 3]
    # and training did something: the weights moved, p stayed >= 1
    assert not torch.equal(a['features.conv1.weight'], fresh_net().state_dict()['features.conv1.weight'])
    assert float(res['net'].pool.p.detach()) >= 1.0
    assert (tmp_path/'part'/'log.csv').is_file() and (tmp_path/'part'/'steps.csv').is_file()


def test_cli_train_writes_loadable_model(tmp_path, capsys):
    "`soi train` end to end on soi.model's resnet18-gem: every epoch's files, then model.pt that load_checkpoint reads."
    from soi.cli import main
    from soi.model import load_checkpoint
    torch.set_num_threads(1)
    write_training_fixture(tmp_path/'data', name='fixture', n_clusters=6, per_cluster=4)
    rc = main(['train', str(tmp_path/'out'), '--training-dataset', 'fixture', '--data', str(tmp_path/'data'),
               '--device', 'cpu', '--model', 'resnet18-gem', '--no-soa', '--image-size', '32', '--neg-num', '2',
               '--query-size', '4', '--pool-size', '24', '--batch-size', '2', '--epochs', '1', '--val-dataset', 'none',
               '--no-progress', '--loss', 'triplet', '--loss-margin', '0.3', '--no-sos', '--p', '2.5'])
    assert rc == 0 and 'trained 1 epochs' in capsys.readouterr().out
    net, extra = load_checkpoint(tmp_path/'out'/'model.pt')
    assert extra['train_config']['loss'] == 'triplet' and extra['train_config']['loss_margin'] == 0.3 and extra['train_config']['sos'] is False
    assert net.config.soa_layers == () and abs(float(net.pool.p.detach()) - 2.5) < 0.1   # --p reached the model
    ck = torch.load(tmp_path/'out'/'last.pt', weights_only=False)
    assert ck['epoch'] == 1 and set(ck['rng']) >= {'python', 'numpy', 'torch'}
    assert {'optimizer', 'scheduler', 'config', 'model'} <= set(ck)
