"""Fine-tuning a cached ImageNet backbone: the neural path's second network (issue 21, item 6).

Offered only where the scratch network is (torch in the workbench, readable images) and the
workbench's weights folders hold a torchvision ResNet checkpoint from the torch hub cache
(``hub/checkpoints/resnet18-<hash>.pth``; ResNet-34 and ResNet-50 too). It is a model family,
``resnet``, beside ``cnn``: it leads one solution path where the scratch network leads the
other, and joins blends and the ensemble like any family. The script defines the architecture in
plain torch with torchvision's parameter names (torchvision does not import beside every torch
build), or takes ``torchvision.models`` when it imports, and loads the checkpoint with
``torch.load(path, weights_only=True)``. The load block gives it a colour pixel grid, passed to
it unscaled, so it normalises the pixels as ImageNet's were.
"""

from __future__ import annotations

import re
from typing import Any

from mle_star.engineer.neural import neural_task, time_budget

FAMILY = "resnet"
# architecture -> (block, blocks per stage, name in words)
ARCHITECTURES: dict[str, tuple[str, tuple[int, int, int, int], str]] = {
    "resnet18": ("basic", (2, 2, 2, 2), "ResNet-18"),
    "resnet34": ("basic", (3, 4, 6, 3), "ResNet-34"),
    "resnet50": ("bottleneck", (3, 4, 6, 3), "ResNet-50"),
}
CHECKPOINT = re.compile(r"^(resnet(?:18|34|50))-[0-9a-f]{6,}$")  # torchvision's torch hub file names
NAME = re.compile(r"resnet[- _]?(18|34|50)\b", re.I)
CPU_ORDER = ("resnet18", "resnet34", "resnet50")  # cheapest first where there is no GPU


def _workbench(task: dict) -> dict:
    facts = task.get("workbench")
    return facts if isinstance(facts, dict) else {}


def cached_backbone(task: dict) -> dict[str, str] | None:
    """The torchvision checkpoint the fine-tune starts from ({"arch", "path", "title"}), or None:
    on the CPU the smallest architecture cached, on a GPU the largest."""
    found: dict[str, str] = {}
    for entry in _workbench(task).get("weights") or []:
        match = CHECKPOINT.match(str(entry.get("name", ""))) if entry.get("kind") == "torch_hub" else None
        if match and match.group(1) not in found:
            found[match.group(1)] = str(entry["path"])
    order = CPU_ORDER[::-1] if _workbench(task).get("cuda") else CPU_ORDER
    arch = next((a for a in order if a in found), None)
    return None if arch is None else {"arch": arch, "path": found[arch], "title": ARCHITECTURES[arch][2]}


def finetune_task(task: dict) -> bool:
    """Whether the fine-tune is offered: the scratch network is, on images, with a checkpoint cached."""
    return task.get("modality") == "image" and neural_task(task) and cached_backbone(task) is not None


def finetune_name(model_name: str) -> bool:
    """Whether a model's name stands for a pretrained ResNet: the fine-tune card, or the
    retriever's card for a cached checkpoint ('Pretrained resnet18-f37072fd (cached weights ...)')."""
    name = model_name.lower()
    return bool(NAME.search(name)) and ("pretrained" in name or "fine-tun" in name)


def finetune_card(task: dict) -> dict | None:
    """The model card the retriever proposes for the fine-tune, if the task has one."""
    if not finetune_task(task):
        return None
    backbone = cached_backbone(task)
    assert backbone is not None
    return {"model_name": f"Fine-tune pretrained {backbone['title']} (cached weights, PyTorch)",
            "example_code": f"import torch\nnet = resnet({backbone['arch']!r})  # torchvision's layout\n"
                            f"net.load_state_dict(torch.load({backbone['path']!r}, weights_only=True))\n"
                            "net.fc = torch.nn.Linear(net.fc.in_features, n_classes)  # a new head\n"
                            "# ImageNet normalisation; the head alone for an epoch, then the whole net with a\n"
                            "# lower learning rate for the backbone (AdamW, cosine decay)"}


def grid(task: dict | None) -> dict[str, Any]:
    """The load-recipe keys for the fine-tune's pixels: colour, 32 cells a side on the CPU (the
    network upsamples; blended trees stay cheap), 64 on a GPU."""
    return {"grid": 64 if _workbench(task or {}).get("cuda") else 32, "channels": 3}


def finetune_params(task: dict, rows: int) -> dict[str, Any]:
    """Starting parameters: the cached backbone, an input twice the grid's side, about 10,000
    image presentations (3 to 15 epochs), the first epoch for the new head alone."""
    backbone = cached_backbone(task) or {"arch": "resnet18", "path": ""}
    epochs = max(3, min(15, 10000 // max(rows, 1)))
    return {"arch": backbone["arch"], "weights": backbone["path"], "size": 2 * int(grid(task)["grid"]),
            "epochs": epochs, "warmup_epochs": 1, "learning_rate": 0.001, "backbone_learning_rate": 0.0003,
            "batch_size": 64, "weight_decay": 0.0001, "shift": 2, "max_seconds": time_budget(task)}


_ESTIMATOR_ARGS = {"classifier": "kind='classifier', random_state=SEED", "regressor": "kind='regressor', random_state=SEED"}


def estimator_entry(estimator: str) -> tuple[str, str, str]:
    """(import, class, fixed arguments) of the fine-tuned network, as ``blocks`` renders every model."""
    return "import torch", "FineTunedResNet", _ESTIMATOR_ARGS[estimator]


RESNET_CODE = '''def plain_resnet(arch: str):
    """torchvision's ResNet in plain torch, with its parameter names (conv1, bn1, layer1.0.conv1, ...,
    fc), so a torchvision checkpoint loads where torchvision itself does not import."""
    from torch import nn

    class Basic(nn.Module):
        expansion = 1

        def __init__(self, inputs: int, width: int, stride: int, downsample):
            super().__init__()
            self.conv1 = nn.Conv2d(inputs, width, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(width)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inputs: int, width: int, stride: int, downsample):
            super().__init__()
            self.conv1 = nn.Conv2d(inputs, width, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(width)
            self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)  # the stride on the 3x3 (v1.5)
            self.bn2 = nn.BatchNorm2d(width)
            self.conv3 = nn.Conv2d(width, width * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(width * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x):
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn3(self.conv3(self.relu(self.bn2(self.conv2(out)))))
            return self.relu(out + (x if self.downsample is None else self.downsample(x)))

    class ResNet(nn.Module):
        def __init__(self, block, layers):
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            inputs = 64
            for stage, (width, count) in enumerate(zip((64, 128, 256, 512), layers)):
                blocks = []
                for i in range(count):
                    stride = 2 if stage > 0 and i == 0 else 1
                    downsample = None
                    if stride != 1 or inputs != width * block.expansion:
                        downsample = nn.Sequential(nn.Conv2d(inputs, width * block.expansion, 1, stride, bias=False),
                                                   nn.BatchNorm2d(width * block.expansion))
                    blocks.append(block(inputs, width, stride, downsample))
                    inputs = width * block.expansion
                setattr(self, f"layer{stage + 1}", nn.Sequential(*blocks))
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(inputs, 1000)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    block, layers = {"resnet18": (Basic, (2, 2, 2, 2)), "resnet34": (Basic, (3, 4, 6, 3)),
                     "resnet50": (Bottleneck, (3, 4, 6, 3))}[arch]
    return ResNet(block, layers)


class FineTunedResNet(BaseEstimator):
    """A torchvision ResNet fine-tuned from the cached ImageNet checkpoint `weights`.

    Each row's first GRID = (channels, height, width) columns are its pixels in [0, 1] (passed
    unscaled by the preprocessor); grey is repeated to three channels, the grid resized to `size`
    and normalised with ImageNet's means and deviations. A new head replaces the 1000 classes:
    it trains alone (the backbone frozen) for `warmup_epochs`, then the whole net trains with
    AdamW, the backbone at `backbone_learning_rate`, both decayed by a cosine, with random shifts
    of up to `shift` cells. Training stops when the next epoch (or, within one, the next batch)
    would pass `max_seconds`, so a script stays within its time limit. Runs on the GPU when torch
    sees one."""

    MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # ImageNet's, per channel

    def __init__(self, kind: str = "classifier", arch: str = "resnet18", weights: str = "", size: int = 64,
                 epochs: int = 5, warmup_epochs: int = 1, learning_rate: float = 0.001,
                 backbone_learning_rate: float = 0.0003, batch_size: int = 64, weight_decay: float = 0.0001,
                 shift: int = 2, max_seconds: float = 60.0, random_state: int = 0):
        self.kind, self.arch, self.weights, self.size, self.epochs = kind, arch, weights, size, epochs
        self.warmup_epochs, self.learning_rate, self.backbone_learning_rate = warmup_epochs, learning_rate, backbone_learning_rate
        self.batch_size, self.weight_decay, self.shift = batch_size, weight_decay, shift
        self.max_seconds, self.random_state = max_seconds, random_state

    def _inputs(self, X) -> np.ndarray:
        """Rows as (n, channels, height, width) pixel grids."""
        X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float32)
        grid = globals().get("GRID")  # the load block's pixel grid
        if grid is None or X.shape[1] < int(np.prod(grid)):
            raise ValueError("FineTunedResNet needs the load block's pixel grid (GRID)")
        return np.ascontiguousarray(X[:, : int(np.prod(grid))].reshape(len(X), *grid))

    def _backbone(self):
        """The architecture with the checkpoint's weights: torchvision's where it imports, else ours."""
        import torch

        try:
            import torchvision

            net, self.source_ = getattr(torchvision.models, self.arch)(weights=None), "torchvision"
        except Exception:  # noqa: BLE001 - torchvision missing, or built for another torch
            net, self.source_ = plain_resnet(self.arch), "plain torch"
        net.load_state_dict(torch.load(self.weights, map_location="cpu", weights_only=True))
        return net

    def _prepared(self, batch, generator=None):
        """A batch as the backbone wants it: three channels, `size` cells a side, ImageNet's scale;
        shifted at random while training."""
        import torch

        if batch.shape[1] == 1:
            batch = batch.expand(-1, 3, -1, -1)
        s = int(self.shift)
        if generator is not None and s > 0:
            height, width = batch.shape[2:]
            padded = torch.nn.functional.pad(batch, (s, s, s, s), mode="replicate")
            dy, dx = torch.randint(0, 2 * s + 1, (2,), generator=generator).tolist()
            batch = padded[:, :, dy:dy + height, dx:dx + width]
        if batch.shape[2] != self.size or batch.shape[3] != self.size:
            batch = torch.nn.functional.interpolate(batch, size=(self.size, self.size), mode="bilinear",
                                                    align_corners=False)
        mean = torch.tensor(self.MEAN, device=batch.device).view(1, 3, 1, 1)
        std = torch.tensor(self.STD, device=batch.device).view(1, 3, 1, 1)
        return (batch - mean) / std

    def fit(self, X, y: np.ndarray):
        import math
        import time

        import torch

        start = time.monotonic()
        torch.manual_seed(self.random_state)
        torch.set_num_threads(THREADS)
        self.device_ = "cuda" if torch.cuda.is_available() else "cpu"
        data = torch.as_tensor(self._inputs(X))
        if self.kind == "classifier":
            self.classes_ = np.unique(y)
            target = torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.long)
            outputs, loss_of = len(self.classes_), torch.nn.functional.cross_entropy
        else:  # values are standardised for training and scaled back when predicting
            y = np.asarray(y, dtype=np.float64)
            self.mean_, self.scale_ = float(y.mean()), float(y.std()) or 1.0
            target = torch.as_tensor((y - self.mean_) / self.scale_, dtype=torch.float32).reshape(-1, 1)
            outputs, loss_of = 1, torch.nn.functional.mse_loss
        net = self._backbone()
        net.fc = torch.nn.Linear(net.fc.in_features, outputs)  # a new head for this task
        self.net_ = net.to(self.device_)
        head = list(net.fc.parameters())
        backbone = [p for name, p in net.named_parameters() if not name.startswith("fc.")]
        optimizer = torch.optim.AdamW([{"params": backbone, "lr": 0.0}, {"params": head, "lr": self.learning_rate}],
                                      weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(self.random_state)
        batches = max(1, math.ceil(len(data) / self.batch_size))
        warmup, epochs, step, self.epochs_run_ = int(self.warmup_epochs), int(self.epochs), 0, 0
        out_of_time = False
        for epoch in range(int(self.epochs)):
            tuning = epoch >= warmup  # the head alone first, the backbone frozen in eval mode
            net.train(tuning)
            net.fc.train()
            for p in backbone:
                p.requires_grad_(tuning)
            for rows in torch.randperm(len(data), generator=generator).split(self.batch_size):
                if len(rows) < 2 and len(data) > 1:  # batch norm needs two rows
                    continue
                if tuning:  # cosine decay over the epochs that fit the budget
                    done = min(1.0, (step - warmup * batches) / max(1, (epochs - warmup) * batches))
                    decay = 0.5 * (1 + math.cos(math.pi * done))
                    optimizer.param_groups[0]["lr"] = self.backbone_learning_rate * decay
                    optimizer.param_groups[1]["lr"] = self.learning_rate * decay
                batch = self._prepared(data[rows].to(self.device_), generator)
                loss = loss_of(net(batch), target[rows].to(self.device_))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
                elapsed = time.monotonic() - start
                if elapsed * (step + 1) / step > self.max_seconds:  # the next batch would pass the budget
                    out_of_time = True
                    break
            self.epochs_run_ = epoch + 1
            per_epoch = (time.monotonic() - start) / (epoch + 1)
            epochs = min(epochs, max(epoch + 1, int(self.max_seconds / per_epoch)))  # what the budget allows
            if out_of_time or epoch + 1 >= epochs:
                break
        seconds = time.monotonic() - start
        print(f"FineTunedResNet: {self.arch} pretrained weights loaded from {self.weights} ({self.source_}); "
              f"{self.epochs_run_} epochs ({min(warmup, self.epochs_run_)} head only) in {seconds:.1f} s, "
              f"{seconds / max(1, self.epochs_run_):.1f} s an epoch, at {self.size}x{self.size} on {self.device_}")
        return self

    def _outputs(self, X):
        import torch

        self.net_.eval()
        with torch.no_grad():
            parts = [self.net_(self._prepared(batch.to(self.device_))).float().cpu()
                     for batch in torch.as_tensor(self._inputs(X)).split(256)]
        return torch.cat(parts) if parts else torch.zeros((0, len(getattr(self, "classes_", [0]))))

    def predict_proba(self, X) -> np.ndarray:
        import torch

        return torch.softmax(self._outputs(X), dim=1).numpy().astype(np.float64)

    def predict(self, X) -> np.ndarray:
        out = self._outputs(X).numpy().astype(np.float64)
        if self.kind == "classifier":
            return self.classes_[out.argmax(axis=1)]
        return out[:, 0] * self.scale_ + self.mean_
'''
