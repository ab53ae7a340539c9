"""The neural path: a small convolutional network in PyTorch for image and audio items.

Offered only when the workbench (the Python environment scripts run in, ``task["workbench"]``)
has torch; without it the engineer writes exactly the scripts it always wrote. The network is
an ordinary model family, ``cnn``, so it joins solution paths, blends and ensembles like any
other: the load block adds a pixel grid (images: a downsampled thumbnail; audio: a log-band
spectrogram, bands x time steps) as the first columns of each row and names its shape in
``GRID``; the model block's ``SmallCNN`` reshapes those columns into tensors, trains from
scratch (AdamW, cosine learning rate, random shifts) on the GPU when torch sees one, within a
time budget, and returns the probabilities or values every other family returns.
"""

from __future__ import annotations

from typing import Any

NEURAL_FAMILIES = ("cnn", "resnet")  # resnet: fine-tuned from cached weights (pretrained.py)
NEURAL_MODALITIES = ("image", "audio")
NAME_WORDS = ("convolutional", "cnn", "resnet", "efficientnet", "convnet")
GRID = 32  # the grid's side: 32x32 pixels, or 32 bands x 32 time steps

CARDS = {
    "image": ("Small convolutional network (PyTorch) on the image pixels",
              "import torch\nfrom torch import nn\n"
              "net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),\n"
              "                    nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),\n"
              "                    nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(128, n_classes))\n"
              "optimizer = torch.optim.AdamW(net.parameters(), lr=3e-3)  # a few epochs, random shifts\n"
              "loss = nn.functional.cross_entropy(net(images), labels)"),
    "audio": ("Spectrogram convolutional network (PyTorch) on log band energies",
              "import numpy as np, torch\nfrom torch import nn\n"
              "power = np.abs(np.fft.rfft(frames * np.hanning(frame), axis=1)) ** 2\n"
              "spectrogram = np.log(band_energies(power) + 1e-10)  # log-spaced bands x time steps\n"
              "net = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),\n"
              "                    nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(64, n_classes))"),
}


def workbench(task: dict) -> dict:
    """The workbench facts of a task (empty when the probe left none)."""
    facts = task.get("workbench")
    return facts if isinstance(facts, dict) else {}


def has_torch(task: dict) -> bool:
    """Whether scripts can import torch (the probe names its version; None means missing)."""
    packages = workbench(task).get("packages")
    return isinstance(packages, dict) and bool(packages.get("torch"))


def neural_task(task: dict) -> bool:
    """Whether the neural path is offered: torch in the workbench, readable image or audio items."""
    from mle_star.engineer.loaders import default_load

    if not has_torch(task) or task.get("image_targets"):
        return False
    load = default_load(task)
    return load.get("items") in NEURAL_MODALITIES and load.get("readable", True) is not False


def is_neural(family: str) -> bool:
    return family in NEURAL_FAMILIES


def neural_name(model_name: str) -> bool:
    """Whether a model's name stands for a convolutional network."""
    name = model_name.lower()
    return any(word in name for word in NAME_WORDS)


def neural_card(task: dict) -> dict | None:
    """The model card the retriever proposes for the neural path, if the task has one."""
    if not neural_task(task):
        return None
    kind = "audio" if task["modality"] == "audio" else "image"
    name, code = CARDS[kind]
    return {"model_name": name, "example_code": code}


def grid_spec(kind: str) -> dict[str, Any]:
    """The load-recipe keys that add a pixel grid to an image or audio loader (the fine-tuned
    ResNet's colour grid is ``pretrained.grid``)."""
    return {"grid": GRID, "channels": 1} if kind == "image" else {"grid": GRID}


def time_budget(task: dict) -> float:
    """Seconds one fit of the network may train: a tenth of a script's time limit (a script may
    fit twice, and ablation studies run several scripts), between 20 s and 5 minutes."""
    limit = workbench(task).get("script_time_limit_s")
    limit = float(limit) if isinstance(limit, int | float) and limit > 0 else 600.0
    return float(round(min(300.0, max(20.0, limit / 10))))


def cnn_params(task: dict, rows: int) -> dict[str, Any]:
    """Starting parameters: enough epochs for about 20,000 image presentations (5 to 30), 16
    channels in the first layer, shifts of two cells."""
    epochs = max(5, min(30, 20000 // max(rows, 1)))
    return {"epochs": epochs, "width": 16, "learning_rate": 0.003, "batch_size": 64, "weight_decay": 0.0001,
            "shift": 2, "max_seconds": time_budget(task)}


_ESTIMATOR_ARGS = {"classifier": "kind='classifier', random_state=SEED", "regressor": "kind='regressor', random_state=SEED"}


def estimator_entry(estimator: str) -> tuple[str, str, str]:
    """(import, class, fixed arguments) of the network, as ``blocks`` renders every model."""
    return "import torch", "SmallCNN", _ESTIMATOR_ARGS[estimator]


CNN_CODE = '''class SmallCNN(BaseEstimator):
    """A small convolutional network in PyTorch, trained from scratch on the load block's grid.

    Each row's first GRID = (channels, height, width) columns are its pixels (or spectrogram
    cells), scaled by the preprocessor; the other feature columns are left to the blend's other
    models. Five 3x3 convolutions with batch norm (two 2x2 poolings), AdamW with a cosine
    learning rate, random shifts of up to `shift` cells. Training stops early when the next
    epoch would pass `max_seconds`, so a script stays within its time limit on any machine.
    Runs on the GPU when torch sees one."""

    def __init__(self, kind: str = "classifier", epochs: int = 20, width: int = 16, learning_rate: float = 0.003,
                 batch_size: int = 64, weight_decay: float = 0.0001, shift: int = 2, max_seconds: float = 60.0,
                 random_state: int = 0):
        self.kind, self.epochs, self.width, self.learning_rate = kind, epochs, width, learning_rate
        self.batch_size, self.weight_decay, self.shift = batch_size, weight_decay, shift
        self.max_seconds, self.random_state = max_seconds, random_state

    def _inputs(self, X) -> np.ndarray:
        """Rows as (n, channels, height, width) images; without a grid, plain feature vectors."""
        X = np.asarray(X.toarray() if hasattr(X, "toarray") else X, dtype=np.float32)
        grid = globals().get("GRID")  # the load block's pixel grid, if it has one
        if grid is None or X.shape[1] < int(np.prod(grid)):
            return X
        return np.ascontiguousarray(X[:, : int(np.prod(grid))].reshape(len(X), *grid))

    def _network(self, inputs: np.ndarray, outputs: int):
        from torch import nn

        if inputs.ndim == 2:  # no grid to convolve: a small multi-layer perceptron
            return nn.Sequential(nn.Linear(inputs.shape[1], 128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, outputs))
        w = self.width

        def conv(a: int, b: int) -> list:
            return [nn.Conv2d(a, b, 3, padding=1, bias=False), nn.BatchNorm2d(b), nn.ReLU(inplace=True)]

        return nn.Sequential(*conv(inputs.shape[1], w), *conv(w, w), nn.MaxPool2d(2),
                             *conv(w, 2 * w), *conv(2 * w, 2 * w), nn.MaxPool2d(2), *conv(2 * w, 4 * w),
                             nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Dropout(0.2), nn.Linear(16 * w, outputs))

    def _shifted(self, batch, generator):
        """The batch moved by up to `shift` cells along each axis (edges repeated)."""
        import torch

        s = int(self.shift)
        if s <= 0 or batch.ndim != 4:
            return batch
        height, width = batch.shape[2:]
        padded = torch.nn.functional.pad(batch, (s, s, s, s), mode="replicate")
        dy, dx = torch.randint(0, 2 * s + 1, (2,), generator=generator).tolist()
        return padded[:, :, dy:dy + height, dx:dx + width]

    def fit(self, X, y: np.ndarray):
        import math
        import time

        import torch

        start = time.monotonic()
        torch.manual_seed(self.random_state)
        torch.set_num_threads(THREADS)
        self.device_ = "cuda" if torch.cuda.is_available() else "cpu"
        inputs = self._inputs(X)
        if self.kind == "classifier":
            self.classes_ = np.unique(y)
            target = torch.as_tensor(np.searchsorted(self.classes_, y), dtype=torch.long)
            outputs, loss_of = len(self.classes_), torch.nn.functional.cross_entropy
        else:  # values are standardised for training and scaled back when predicting
            y = np.asarray(y, dtype=np.float64)
            self.mean_, self.scale_ = float(y.mean()), float(y.std()) or 1.0
            target = torch.as_tensor((y - self.mean_) / self.scale_, dtype=torch.float32).reshape(-1, 1)
            outputs, loss_of = 1, torch.nn.functional.mse_loss
        self.net_ = self._network(inputs, outputs).to(self.device_)
        data, target = torch.as_tensor(inputs).to(self.device_), target.to(self.device_)
        optimizer = torch.optim.AdamW(self.net_.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(self.random_state)
        batches = max(1, math.ceil(len(data) / self.batch_size))
        epochs, step, self.epochs_run_ = int(self.epochs), 0, 0
        self.net_.train()
        for epoch in range(int(self.epochs)):
            for rows in torch.randperm(len(data), generator=generator).split(self.batch_size):
                if len(rows) < 2 and len(data) > 1:  # batch norm needs two rows
                    continue
                for group in optimizer.param_groups:  # cosine decay over the epochs that fit the budget
                    group["lr"] = self.learning_rate * 0.5 * (1 + math.cos(math.pi * min(1.0, step / (epochs * batches))))
                rows = rows.to(self.device_)
                loss = loss_of(self.net_(self._shifted(data[rows], generator)), target[rows])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                step += 1
            self.epochs_run_ = epoch + 1
            per_epoch = (time.monotonic() - start) / (epoch + 1)
            epochs = min(epochs, max(epoch + 1, int(self.max_seconds / per_epoch)))  # what the budget allows
            if epoch + 1 >= epochs:
                break
        print(f"SmallCNN: {self.epochs_run_} epochs in {time.monotonic() - start:.1f} s on {self.device_}")
        return self

    def _outputs(self, X):
        import torch

        self.net_.eval()
        with torch.no_grad():
            parts = [self.net_(batch.to(self.device_)).float().cpu() for batch in torch.as_tensor(self._inputs(X)).split(512)]
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
