"""classifier/model.py: EfficientNet-Lite0 rebuilt in plain PyTorch."""

import pytest
import torch

from classifier.model import (
    STAGES,
    EfficientNetLite0,
    default_weights_path,
    load_model,
    same_padding,
)


@pytest.fixture(scope="module")
def imagenet_state_dict() -> dict:
    return load_model().state_dict()


def test_it_loads_every_weight_of_the_checkpoint(imagenet_state_dict):
    # load_model is strict: it raises on any missing or unexpected key. Checked here
    # against the file itself, so a silently ignored tensor would show.
    checkpoint = torch.load(default_weights_path(), map_location="cpu", weights_only=True)
    assert checkpoint.keys() == imagenet_state_dict.keys()
    for key, tensor in checkpoint.items():
        assert torch.equal(tensor, imagenet_state_dict[key]), key


def test_it_has_the_papers_16_blocks():
    assert sum(stage.repeats for stage in STAGES) == 16
    assert len(EfficientNetLite0()._blocks) == 16


def test_it_takes_the_class_count_from_the_checkpoint(tmp_path, imagenet_state_dict):
    # A fine-tuned bird model: same network, a 200-class head (CUB-200).
    fine_tuned = dict(imagenet_state_dict)
    fine_tuned["_fc.weight"] = torch.zeros(200, 1280)
    fine_tuned["_fc.bias"] = torch.zeros(200)
    path = tmp_path / "cub200.pth"
    torch.save(fine_tuned, path)

    model = load_model(path)

    assert model(torch.zeros(1, 3, 224, 224)).shape == (1, 200)


def test_it_refuses_a_checkpoint_with_a_missing_layer(tmp_path, imagenet_state_dict):
    broken = {k: v for k, v in imagenet_state_dict.items() if not k.startswith("_conv_head")}
    torch.save(broken, tmp_path / "broken.pth")
    with pytest.raises(RuntimeError, match=r"_conv_head\.weight"):
        load_model(tmp_path / "broken.pth")


def test_it_refuses_a_file_that_is_not_a_state_dict(tmp_path):
    torch.save({"weights": torch.zeros(3)}, tmp_path / "other.pth")
    with pytest.raises(ValueError, match=r"_fc\.weight"):
        load_model(tmp_path / "other.pth")


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "padding"),
    [
        (224, 3, 2, 1),  # odd total: TensorFlow puts the extra pixel right/bottom
        (56, 5, 2, 3),
        (112, 3, 1, 2),  # stride 1: the usual symmetric kernel // 2 on each side
        (7, 1, 1, 0),
    ],
)
def test_it_pads_like_tensorflow_same(size, kernel, stride, padding):
    assert same_padding(size, kernel, stride) == padding


def test_it_keeps_the_spatial_size_tensorflow_would():
    model = EfficientNetLite0().eval()
    with torch.inference_mode():
        stem = model._conv_stem(torch.zeros(1, 3, 225, 225))
    assert stem.shape[-2:] == (113, 113)  # ceil(225 / 2)
