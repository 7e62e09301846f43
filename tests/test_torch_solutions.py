"""The seed's own setting: CIFAR-10 from a local folder, ResNet-18, resumable training and
the ``similarity`` command (on a tiny generated folder in the CIFAR-10 format)."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
import torch
from torch_models import one_torch_thread  # noqa: F401
from typer.testing import CliRunner

from hessian_lab.cli import app
from hessian_lab.torch.data import CIFAR10_MEAN, CIFAR10_STD, cifar10, digits, write_cifar10_like
from hessian_lab.torch.models import resnet18, resnet18_source, small_cnn
from hessian_lab.torch.solutions import PRESETS, _optimizers
from hessian_lab.torch.train import train

pytestmark = pytest.mark.usefixtures("one_torch_thread")
runner = CliRunner()


def test_cifar10_reads_the_python_batches_and_standardizes_per_channel(tmp_path):
    write_cifar10_like(tmp_path / "cifar-10-batches-py", n_per_batch=3, seed=1)
    train_set, test_set = cifar10(tmp_path)  # finds the standard sub-folder
    assert train_set.inputs.shape == (15, 3, 32, 32) and test_set.inputs.shape == (3, 3, 32, 32)
    with open(tmp_path / "cifar-10-batches-py" / "data_batch_2", "rb") as handle:
        raw = pickle.load(handle, encoding="bytes")
    image = np.asarray(raw[b"data"][0], dtype=np.float64).reshape(3, 32, 32) / 255
    want = (image - np.array(CIFAR10_MEAN)[:, None, None]) / np.array(CIFAR10_STD)[:, None, None]
    np.testing.assert_allclose(train_set.inputs[3].numpy(), want, rtol=1e-5, atol=1e-5)
    assert train_set.targets[3] == raw[b"labels"][0]
    small, _ = cifar10(tmp_path / "cifar-10-batches-py", n_train=4, n_test=1)
    assert len(small) == 4 and torch.equal(small.inputs, train_set.inputs[:4])


def test_cifar10_refuses_a_missing_folder_a_bad_file_and_code_in_a_pickle(tmp_path):
    with pytest.raises(ValueError, match="holds no CIFAR-10 python batches"):
        cifar10(tmp_path)
    write_cifar10_like(tmp_path, n_per_batch=2)
    (tmp_path / "test_batch").write_bytes(b"not a pickle")
    with pytest.raises(ValueError, match="test_batch' is not a CIFAR-10 python batch"):
        cifar10(tmp_path)

    class Exploit:
        def __reduce__(self):
            return (print, ("code ran",))

    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": Exploit(), b"labels": []}))
    with pytest.raises(ValueError, match="UnpicklingError"):
        cifar10(tmp_path)


def test_resnet18_has_torchvisions_layout_for_ten_classes():
    net = resnet18(seed=0)
    shapes = {name: tuple(p.shape) for name, p in net.named_parameters()}
    assert sum(p.numel() for p in net.parameters()) == 11_181_642  # torchvision's, 10 classes
    assert shapes["conv1.weight"] == (64, 3, 7, 7) and shapes["fc.weight"] == (10, 512)
    assert shapes["layer2.0.downsample.0.weight"] == (128, 64, 1, 1)
    assert "layer1.0.downsample.0.weight" not in shapes
    assert net(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    again = resnet18(seed=0)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), again.parameters(), strict=True))
    if resnet18_source() == "hessian_lab.torch.resnet":  # torchvision does not load here
        return
    from torchvision.models import resnet18 as theirs  # pragma: no cover - CI with torchvision

    torch.manual_seed(0)  # same seed, same construction order: the same weights
    reference = theirs(weights=None, num_classes=10)  # pragma: no cover
    assert all(  # pragma: no cover
        torch.equal(a, b)
        for a, b in zip(reference.state_dict().values(), net.state_dict().values(), strict=True)
    )


@pytest.mark.parametrize("optimizer", ["SGD", "AdaHessian"])
def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path, optimizer):
    train_set, test_set = digits(n_train=64, n_test=32, seed=0)
    make, second_order = _optimizers(PRESETS["seed002"], seed=0)[optimizer]
    options = {"batch_size": 16, "seed": 3, "second_order": second_order}

    straight = small_cnn(seed=0)
    history = train(straight, make(list(straight.parameters())), train_set, test_set, 2, **options)
    resumed = small_cnn(seed=0)
    checkpoint = tmp_path / "run.pt"
    lines = []
    train(resumed, make(list(resumed.parameters())), train_set, test_set, 1,
          checkpoint=checkpoint, **options)
    again = small_cnn(seed=0)  # a fresh process: weights come from the checkpoint
    continued = train(again, make(list(again.parameters())), train_set, test_set, 2,
                      checkpoint=checkpoint, log=lines.append, **options)
    assert [line.split(":")[0] for line in lines] == ["epoch 2/2"]
    assert continued == history
    assert all(torch.equal(a, b) for a, b in zip(straight.parameters(), again.parameters(),
                                                 strict=True))
    with pytest.raises(ValueError, match="was written with"):
        train(again, make(list(again.parameters())), train_set, test_set, 3,
              checkpoint=checkpoint, **{**options, "batch_size": 8})


def test_similarity_command_trains_resnet18_on_a_cifar10_folder(tmp_path):
    write_cifar10_like(tmp_path / "data", n_per_batch=2)
    args = ["similarity", "--dataset", "cifar10", "--data-root", str(tmp_path / "data"),
            "--device", "cpu", "--similarity-examples", "2", "--json",
            "--checkpoint-dir", str(tmp_path / "runs")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    settings = report["settings"]
    assert settings["model"] == "resnet18" and settings["n_train"] == 10
    assert settings["sgd"] == {"lr": 0.01, "momentum": 0.95, "weight_decay": 5e-4}
    assert settings["adahessian"]["lr"] == 0.15 and settings["batch_size"] == 256
    assert set(report["similarity"]) == {"linear CKA", "SVCCA", "Procrustes distance"}
    layers = report["similarity"]["linear CKA"]["SGD vs AdaHessian"]
    assert list(layers) == ["relu", "layer1", "layer2", "layer3", "layer4", "fc"]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "cifar10-resnet18-seed002-AdaHessian-seed0.pt", "cifar10-resnet18-seed002-SGD-seed0.pt"
    ]
    assert "SGD: epoch 1/1" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset", "cifar10"], "--dataset cifar10 needs --data-root"),
        (["--dataset", "cifar10", "--data-root", "/nonexistent"], "holds no CIFAR-10"),
        (["--model", "resnet18"], "does not fit digits"),
        (["--epochs", "0"], "--epochs must be an integer >= 1"),
        (["--device", "gpu"], "gpu"),
    ],
)
def test_similarity_command_refuses_bad_input_in_one_line(args, message):
    result = runner.invoke(app, ["similarity", *args])
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.stderr


def test_cuda_is_refused_where_there_is_none():
    if torch.cuda.is_available():  # pragma: no cover - a GPU machine
        return
    result = runner.invoke(app, ["similarity", "--device", "cuda", "--train-examples", "8"])
    assert result.exit_code == 2 and "no CUDA device is available" in result.stderr
