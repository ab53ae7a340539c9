"""The ``load`` block: how a script turns the task's files into rows of features.

One recipe per modality, each recording its feature-extraction choices so ablation and
refinement can vary them:

- tables (CSV, zipped CSV shown unzipped, JSON records): ``{"format", "joins"}``; JSON
  records are flattened with ``pandas.json_normalize``, lists become a count and a text;
  ``joins`` lists extra tables that share the key column (the data-usage checker adds them);
- images: ``{"items": "image", "size", "hog", "cells", "orientations", "colour"}`` — a
  fixed-size greyscale thumbnail's pixels, gradient-orientation histograms per cell and
  optional colour statistics, decoded with Pillow;
- audio: ``{"items": "audio", "bands", "frame", "deltas"}`` — log band energies of a short-time
  FFT, zero-crossing rate, RMS statistics, spectral centroid and duration; WAV read with
  ``scipy.io.wavfile``, AIFF/AIFC (as the right-whale challenge ships its clips) by a reader
  the script carries, since the standard library's ``aifc`` is gone from Python 3.13;
- with ``"grid": n`` (the neural path, when the workbench has torch), images and audio clips
  also yield an n x n grid ahead of those features: the thumbnail's pixels (``"channels"``: 1
  grey, 3 colour) or a log-band spectrogram (bands x time steps); ``GRID`` names its shape and
  the item features come before the table's columns, so a network finds the grid in the
  first columns of each row;
- image targets (one prediction per pixel): ``{"items": "pixels", "radius", "per_image"}`` — each
  pixel's (2r+1)^2 neighbourhood of grey levels and its statistics; training rows are a sample
  of ``per_image`` pixels of every training image, held-out and test rows every pixel;
- items in a format that cannot be read: ``{"items": ..., "readable": false}`` — every row
  gets the same (empty) features, so the models predict the class prior or the mean.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from mle_star.engineer.markers import footer, header

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm"}
AUDIO_SUFFIXES = {".wav", ".aif", ".aiff", ".aifc"}


def item_suffix(task: dict) -> str:
    """The file suffix of the task's items (from the pattern, else from a real file name)."""
    items = task.get("train_items") or task.get("test_items")
    if not items:
        return ""
    suffix = PurePosixPath(items["pattern"]).suffix.lower()
    if suffix:
        return suffix
    folder = Path(task["data_dir"]) / items["dir"]
    if folder.is_dir():
        first = next((p for p in sorted(folder.rglob("*")) if p.is_file()), None)
        return first.suffix.lower() if first else ""
    archive = folder.with_name(folder.name + ".zip")  # the items are extracted from the task's archive
    if archive.is_file():
        import zipfile

        with zipfile.ZipFile(archive) as z:
            names = [n for n in z.namelist() if not n.endswith("/") and not n.startswith("__MACOSX/")]
        return PurePosixPath(names[0]).suffix.lower() if names else ""
    return ""


def default_load(task: dict) -> dict:
    """The first load recipe for a task."""
    modality = task["modality"]
    source = task.get("label_source") or {}
    fmt = source.get("format", "csv")
    if task.get("image_targets"):
        return {"items": "pixels", "format": fmt, "radius": 2, "per_image": 2000}
    if modality == "image" or (modality == "other" and item_suffix(task) in IMAGE_SUFFIXES):
        if item_suffix(task) not in IMAGE_SUFFIXES and item_suffix(task):
            return {"items": "image", "readable": False, "format": fmt}
        return {"items": "image", "format": fmt, "size": 16, "hog": True, "cells": 4, "orientations": 9,
                "colour": False}
    if modality == "audio":
        if item_suffix(task) not in AUDIO_SUFFIXES:
            return {"items": "audio", "readable": False, "format": fmt}
        return {"items": "audio", "format": fmt, "bands": 24, "frame": 1024, "deltas": False}
    if modality == "other" and (task.get("train_items") or task.get("test_items")):
        return {"items": "other", "readable": False, "format": fmt}
    return {"format": fmt, "joins": []}


# -- reading tables ----------------------------------------------------------------------------

CSV_READER = '''def read_table(path: str) -> pd.DataFrame:
    """A table (pandas reads .zip/.gz compressed CSV as well); ids stay text, leading zeros and all."""
    return pd.read_csv(path, sep="\\t" if ".tsv" in path else ",", low_memory=False, dtype={KEY: str, ID: str})
'''

JSON_READER = '''def read_records(path: str) -> pd.DataFrame:
    """JSON records flattened into columns ("a.b.c"); a list becomes its length and a space-joined text."""
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    if path.endswith((".jsonl", ".ndjson")):
        records = [json.loads(line) for line in text.splitlines() if line.strip()]
    else:
        records = json.loads(text)
    if isinstance(records, dict):  # an object that holds one array of records
        arrays = [v for v in records.values() if isinstance(v, list)]
        records = max(arrays, key=len) if arrays else [records]
    frame = pd.json_normalize(records)
    for col in list(frame.columns):
        values = frame[col]
        if values.map(lambda v: isinstance(v, list)).any():
            frame[f"{col}.count"] = values.map(lambda v: len(v) if isinstance(v, list) else 0)
            frame[col] = values.map(lambda v: " ".join(map(str, v)) if isinstance(v, list) else "")
        elif values.map(lambda v: isinstance(v, dict)).any():
            frame[col] = values.map(lambda v: json.dumps(v, sort_keys=True) if isinstance(v, dict) else v)
        elif col not in LABELS and values.dtype == bool:
            frame[col] = values.astype(float)
    return frame
'''


def _reader_code(spec: dict) -> tuple[str, str]:
    """(functions, the name of the function that reads the label/held-out/test files)."""
    joins = spec.get("joins") or []
    needs_json = spec.get("format") == "json" or any(str(j[0]).endswith((".json", ".jsonl", ".ndjson"))
                                                     for j in joins)
    needs_csv = spec.get("format") != "json" or any(not str(j[0]).endswith((".json", ".jsonl", ".ndjson"))
                                                    for j in joins)
    code = (CSV_READER if needs_csv else "") + ("\n\n" if needs_csv and needs_json else "") + \
        (JSON_READER if needs_json else "")
    return code, "read_records" if spec.get("format") == "json" else "read_table"


def _joins_code(spec: dict) -> str:
    joins = spec.get("joins") or []
    if not joins:
        return ""
    readers = ", ".join(f"({'./input/' + name!r}, {key!r})" for name, key in joins)
    return f'''

JOINS = [{readers}]  # extra tables that share the key column: (file, its key column)


def join_extra(frame: pd.DataFrame) -> pd.DataFrame:
    """Join the extra tables' columns onto each row by key (several rows per key: averaged and counted)."""
    frame = frame.assign(__key=as_text(frame[KEY]))
    for path, key in JOINS:
        extra = read_records(path) if path.endswith((".json", ".jsonl", ".ndjson")) else read_table(path)
        stem = os.path.basename(path).split(".")[0]
        extra = extra.assign(__key=as_text(extra[key])).drop(columns=[key])
        if extra["__key"].duplicated().any():
            numeric = [c for c in extra.columns if c != "__key" and pd.api.types.is_numeric_dtype(extra[c])]
            grouped = extra.groupby("__key")
            extra = grouped[numeric].mean().assign(rows=grouped.size()).reset_index()
        extra = extra.rename(columns={{c: f"{{stem}}__{{c}}" for c in extra.columns if c != "__key"}})
        frame = frame.merge(extra, how="left", on="__key")
    return frame.drop(columns=["__key"])
'''


def _table_loader(spec: dict) -> str:
    readers, read = _reader_code(spec)
    join = "join_extra" if spec.get("joins") else ""
    wrap = (lambda e: f"{join}({e})") if join else (lambda e: e)
    return readers + _joins_code(spec) + f'''

def load_data() -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """Labelled rows, held-out rows (no labels; None in the final script) and test rows."""
    labelled = {read}(LABELLED)
    labelled = labelled[labelled[LABELS].notna().all(axis=1)].reset_index(drop=True)
    if SUBSAMPLE and len(labelled) > SUBSAMPLE:  # while searching, a random subsample for speed
        labelled = labelled.sample(n=SUBSAMPLE, random_state=SEED).reset_index(drop=True)
    holdout = {wrap(f"{read}(HOLDOUT)")} if HOLDOUT else None
    test = {read}(TEST) if TEST else pd.read_csv(SAMPLE, dtype={{ID: str}})[[ID]]
    if KEY not in test.columns:  # the test rows name their id as the submission does
        test = test.rename(columns={{ID: KEY}}) if ID in test.columns else test.assign(**{{KEY: pd.read_csv(SAMPLE, dtype={{ID: str}})[ID]}})
    return {wrap("labelled")}, holdout, {wrap("test")}
'''


# -- items: images and audio -------------------------------------------------------------------

def _image_features(spec: dict) -> str:
    size, cells, bins = int(spec.get("size", 16)), int(spec.get("cells", 4)), int(spec.get("orientations", 9))
    lines = [
        "def item_features(path: str) -> np.ndarray:",
        f'    """A {size}x{size} greyscale thumbnail\'s pixels'
        + (f", gradient-orientation histograms ({bins} bins) in {cells}x{cells} cells" if spec.get("hog") else "")
        + (", colour statistics" if spec.get("colour") else "") + '."""',
        "    from PIL import Image",
        "",
        "    with Image.open(path) as img:",
        "        img.load()",
        "        rgb = img.convert(\"RGB\")",
        f"    grey = np.asarray(rgb.convert(\"L\").resize(({size}, {size}), Image.Resampling.BILINEAR), dtype=np.float32) / 255.0",
        "    parts = [grey.ravel()]",
    ]
    if spec.get("grid"):  # the network's pixels come first, channel by channel
        grid, source = int(spec["grid"]), "rgb" if int(spec.get("channels", 1)) == 3 else 'rgb.convert("L")'
        lines[1] = lines[1][:-4] + f'; first the {grid}x{grid} pixel grid a network reads (GRID)."""'
        lines += [f"    pixels = np.asarray({source}.resize(({grid}, {grid}), Image.Resampling.BILINEAR), "
                  "dtype=np.float32) / 255.0",
                  "    parts.insert(0, (pixels.transpose(2, 0, 1) if pixels.ndim == 3 else pixels).ravel())"]
    if spec.get("hog"):
        lines += [
            "    gy, gx = np.gradient(grey)",
            "    magnitude = np.hypot(gx, gy)",
            f"    orientation = np.minimum((np.mod(np.arctan2(gy, gx), np.pi) / np.pi * {bins}).astype(int), {bins - 1})",
            f"    step = max(1, {size} // {cells})",
            f"    for i in range(0, step * {cells}, step):",
            f"        for j in range(0, step * {cells}, step):",
            "            cell = (slice(i, i + step), slice(j, j + step))",
            f"            hist = np.bincount(orientation[cell].ravel(), weights=magnitude[cell].ravel(), minlength={bins})",
            "            parts.append(hist / (np.linalg.norm(hist) + 1e-6))",
        ]
    if spec.get("colour"):
        lines += [
            "    pixels = np.asarray(rgb.resize((32, 32)), dtype=np.float32).reshape(-1, 3) / 255.0",
            "    parts.append(pixels.mean(axis=0))",
            "    parts.append(pixels.std(axis=0))",
            "    for channel in range(3):",
            "        parts.append(np.histogram(pixels[:, channel], bins=8, range=(0.0, 1.0))[0] / len(pixels))",
        ]
    lines += ["    return np.concatenate(parts).astype(np.float32)"]
    return "\n".join(lines) + "\n"


CLIP_READER = '''def read_clip(path: str) -> tuple[float, np.ndarray]:
    """(sample rate, mono samples in [-1, 1]) of a WAV or an uncompressed AIFF/AIFC clip."""
    if not path.lower().endswith((".aif", ".aiff", ".aifc")):
        from scipy.io import wavfile

        rate, data = wavfile.read(path)
        x = data.astype(np.float64)
        if np.issubdtype(data.dtype, np.integer):
            x /= float(np.iinfo(data.dtype).max)
        return float(rate), x.mean(axis=1) if x.ndim > 1 else x
    with open(path, "rb") as fh:
        raw = fh.read()
    if raw[:4] != b"FORM" or raw[8:12] not in (b"AIFF", b"AIFC"):
        raise ValueError(f"{path} is not an AIFF file")
    pos, channels, bits, rate, little, samples = 12, 1, 16, 8000.0, False, b""
    while pos + 8 <= len(raw):
        kind, size = raw[pos:pos + 4], int.from_bytes(raw[pos + 4:pos + 8], "big")
        body = raw[pos + 8:pos + 8 + size]
        if kind == b"COMM":
            channels, bits = int.from_bytes(body[0:2], "big"), int.from_bytes(body[6:8], "big")
            exponent = int.from_bytes(body[8:10], "big") & 0x7FFF  # an 80-bit extended float
            rate = int.from_bytes(body[10:18], "big") * 2.0 ** (exponent - 16383 - 63)
            little = raw[8:12] == b"AIFC" and body[18:22] == b"sowt"
        elif kind == b"SSND":
            samples = body[8 + int.from_bytes(body[0:4], "big"):]
        pos += 8 + size + (size % 2)
    width = max(1, bits // 8)
    dtype = np.dtype({1: "i1", 2: "i2", 4: "i4"}.get(width, "i2")).newbyteorder("<" if little else ">")
    x = np.frombuffer(samples[: len(samples) // width * width], dtype=dtype).astype(np.float64)
    x /= float(2 ** (8 * width - 1))
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1)
    return rate, x
'''


def _audio_features(spec: dict) -> str:
    bands, frame = int(spec.get("bands", 24)), int(spec.get("frame", 1024))
    deltas = bool(spec.get("deltas"))
    code = CLIP_READER + f'''

def item_features(path: str) -> np.ndarray:
    """Log energies in {bands} log-spaced frequency bands (STFT, frames of up to {frame} samples), zero-crossing
    rate, RMS statistics and envelope, spectral centroid and duration of one clip."""
    rate, x = read_clip(path)
    duration = len(x) / rate
    size = int(min({frame}, 2 ** max(4, int(np.log2(max(len(x), 16))))))
    if len(x) < size:
        x = np.pad(x, (0, size - len(x)))
    starts = np.arange(0, len(x) - size + 1, size // 2)
    starts = starts[np.linspace(0, len(starts) - 1, min(len(starts), 400)).astype(int)]  # at most 400 frames
    frames = np.stack([x[s:s + size] for s in starts])
    power = np.abs(np.fft.rfft(frames * np.hanning(size), axis=1)) ** 2
    freqs = np.fft.rfftfreq(size, 1.0 / rate)
    edges = np.geomspace(freqs[1], rate / 2.0, {bands} + 1)
    energy = np.stack([power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) for lo, hi in zip(edges[:-1], edges[1:])], axis=1)
    log_energy = np.log(energy + 1e-10)
    rms = np.sqrt((frames ** 2).mean(axis=1))
    zero_crossings = (np.diff(np.signbit(frames), axis=1) != 0).mean(axis=1)
    centroid = (power * freqs).sum(axis=1) / (power.sum(axis=1) + 1e-12) / (rate / 2.0)
    envelope = np.array([np.sqrt(np.mean(s ** 2)) if len(s) else 0.0 for s in np.array_split(x, 8)])
    envelope = envelope / (envelope.max() + 1e-10)  # the loudness over the clip's eight parts
    parts = [log_energy.mean(axis=0), log_energy.std(axis=0), log_energy.max(axis=0), envelope,
             [rms.mean(), rms.std(), rms.max(), np.log(rms.max() + 1e-10), zero_crossings.mean(), zero_crossings.std(),
              centroid.mean(), centroid.std(), duration, np.log(duration + 1e-6)]]
'''
    if spec.get("grid"):
        grid = int(spec["grid"])
        code = code.replace("duration of one clip.", f"duration of one clip; first a {grid}x{grid} spectrogram for a network.", 1)
        code += f'''    # first the spectrogram a network reads (GRID): log energies in {grid} log-spaced bands x {grid} time steps
    edges = np.geomspace(freqs[1], rate / 2.0, {grid} + 1)
    bands = np.stack([power[:, (freqs >= lo) & (freqs < hi)].sum(axis=1) for lo, hi in zip(edges[:-1], edges[1:])], axis=1)
    steps = np.linspace(0, len(bands) - 1, {grid})
    spectrogram = np.stack([np.interp(steps, np.arange(len(bands)), band) for band in np.log(bands + 1e-10).T])
    parts.insert(0, spectrogram.ravel())
'''
    if deltas:
        code += '''    change = np.diff(log_energy, axis=0) if len(log_energy) > 1 else np.zeros_like(log_energy)
    parts += [np.abs(change).mean(axis=0), change.std(axis=0)]  # how fast each band's energy moves
'''
    code += "    return np.concatenate([np.ravel(p) for p in parts]).astype(np.float32)\n"
    return code


def _unreadable(spec: dict, suffix: str) -> str:
    what = {"image": "image", "audio": "audio"}.get(spec.get("items") or "", "item")
    return f'''# NOTE: the {what} files ({suffix or 'unknown format'}) cannot be decoded with the libraries available
# (Pillow for images, scipy.io.wavfile for WAV audio), so every row gets the same empty
# features and the models predict the class prior (or the mean): a valid, honest baseline.
UNREADABLE_NOTE = "Note: the {what} files cannot be decoded here; predictions are the class prior / the mean."


def item_features(path: str) -> np.ndarray:
    """No features can be read from this format."""
    return np.zeros(0, dtype=np.float32)
'''


def _grid_constant(spec: dict) -> str:
    """``GRID``, the shape of the pixel grid (or spectrogram) that leads each row, for a network."""
    if not spec.get("grid") or spec.get("readable", True) is False:
        return ""
    grid, channels = int(spec["grid"]), int(spec.get("channels", 1)) if spec.get("items") == "image" else 1
    what = "pixels: channels, height, width" if spec.get("items") == "image" else "spectrogram: 1, bands, time steps"
    return (f"GRID = {(channels, grid, grid)!r}  # the {what}: the first columns of each row, where a network\n"
            "# finds them (the item features come before the table's columns)\n\n\n")


def _items_loader(spec: dict, suffix: str, test_table: bool = False) -> str:
    readers, read = _reader_code(spec | {"joins": []})
    if spec.get("readable", True) is False:
        features = _unreadable(spec, suffix)
    elif spec["items"] == "image":
        features = _image_features(spec)
    else:
        features = _audio_features(spec)
    # the test rows: the test table's, where it has more than ids (siim-isic's metadata, leaf's
    # shape features), else the sample's ids
    test_rows = (f"    test = {read}(TEST).reset_index(drop=True)\n    if KEY not in test.columns:\n"
                 "        test = test.rename(columns={ID: KEY})\n" if test_table else
                 "    test = pd.read_csv(SAMPLE, dtype={ID: str})[[ID]].rename(columns={ID: KEY})\n")
    grid = _grid_constant(spec)
    first = (lambda table, items: f"{items}, {table}") if grid else (lambda table, items: f"{table}, {items}")
    return readers + "\n\n" + grid + features + f'''

def items_frame(ids, where: tuple[str, str]) -> pd.DataFrame:
    """One row of features per item id (the file of an id is folder/pattern)."""
    folder, pattern = where
    rows = [item_features(os.path.join(folder, pattern.format(id=str(i)))) for i in ids]
    width = max((len(r) for r in rows), default=0)
    matrix = np.zeros((len(rows), width), dtype=np.float32)
    for i, r in enumerate(rows):
        matrix[i, : len(r)] = r
    return pd.DataFrame(matrix, columns=[f"f{{j}}" for j in range(width)])


def load_data() -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """Labelled rows, held-out rows (no labels; None in the final script) and test rows, with item features."""
    labelled = {read}(LABELLED)
    labelled = labelled[labelled[LABELS].notna().all(axis=1)].reset_index(drop=True)
    if SUBSAMPLE and len(labelled) > SUBSAMPLE:  # while searching, a random subsample for speed
        labelled = labelled.sample(n=SUBSAMPLE, random_state=SEED).reset_index(drop=True)
    labelled = pd.concat([{first("labelled", "items_frame(labelled[KEY], TRAIN_ITEMS)")}], axis=1)
    holdout = None
    if HOLDOUT:
        holdout = {read}(HOLDOUT)
        holdout = pd.concat([{first("holdout", "items_frame(holdout[KEY], TRAIN_ITEMS)")}], axis=1)
{test_rows}    test = pd.concat([{first("test", "items_frame(test[KEY], TEST_ITEMS)")}], axis=1)
    return labelled, holdout, test
'''


PIXEL_LOADER = '''def image_grey(path: str) -> np.ndarray:
    """Grey levels in [0, 1] (the targets' scale)."""
    from PIL import Image

    return np.asarray(Image.open(path).convert("L"), dtype=np.float32) / 255.0


def pixel_features(grey: np.ndarray) -> np.ndarray:
    """Per pixel: its (2r+1)^2 neighbourhood (edges repeated) and the neighbourhood's mean, spread, min and max."""
    r, (h, w) = PIXEL_RADIUS, grey.shape
    padded = np.pad(grey, r, mode="edge")
    local = np.stack([padded[dy:dy + h, dx:dx + w].ravel() for dy in range(2 * r + 1) for dx in range(2 * r + 1)], axis=1)
    return np.column_stack([local, local.mean(axis=1), local.std(axis=1), local.min(axis=1), local.max(axis=1)])


def image_rows(folder: str, targets: str | None = None, per_image: int | None = None) -> pd.DataFrame:
    """One row per pixel of each image in ``folder`` (a sample of per_image pixels of each, if given), with its id
    <stem>_<row>_<col> and, where ``targets`` holds the image of the same name, its target value."""
    rng = np.random.default_rng(SEED)
    frames = []
    for name in sorted(os.listdir(folder)):
        grey = image_grey(os.path.join(folder, name))
        rows, cols = np.indices(grey.shape)
        features = pixel_features(grey)
        keep = np.arange(grey.size)
        if per_image and grey.size > per_image:
            keep = np.sort(rng.choice(grey.size, per_image, replace=False))
        stem = os.path.splitext(name)[0]
        frame = pd.DataFrame(features[keep], columns=[f"p{j}" for j in range(features.shape[1])])
        frame.insert(0, KEY, [f"{stem}_{a + PIXEL_BASE}_{b + PIXEL_BASE}" for a, b in zip(rows.ravel()[keep], cols.ravel()[keep])])
        if targets is not None:
            frame[LABELS[0]] = image_grey(os.path.join(targets, name)).ravel()[keep]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def load_data() -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame]:
    """Sampled training pixels with their targets, every held-out pixel (None in the final script), every test pixel."""
    labelled = image_rows(PIXEL_INPUTS, PIXEL_TARGETS, PIXELS_PER_IMAGE)
    if SUBSAMPLE and len(labelled) > SUBSAMPLE:  # while searching, a random subsample for speed
        labelled = labelled.sample(n=SUBSAMPLE, random_state=SEED).reset_index(drop=True)
    holdout = image_rows(HOLDOUT) if HOLDOUT else None
    return labelled, holdout, image_rows(PIXEL_TEST)
'''


def _pixel_loader(spec: dict, task: dict) -> str:
    pixels = task["image_targets"]
    return (f"PIXEL_INPUTS = {'./input/' + pixels['inputs']!r}  # training input images\n"
            f"PIXEL_TARGETS = {'./input/' + pixels['targets']!r}  # their target images (same names)\n"
            f"PIXEL_TEST = {'./input/' + pixels['test']!r}  # the test input images\n"
            f"PIXEL_BASE = {int(pixels['base'])!r}  # the first row / column number in a pixel id\n"
            f"PIXEL_RADIUS = {int(spec.get('radius', 2))!r}  # the neighbourhood of a pixel: (2r+1) x (2r+1)\n"
            f"PIXELS_PER_IMAGE = {int(spec.get('per_image', 2000))!r}  # training pixels sampled from each image\n\n\n"
            + PIXEL_LOADER)


def render_load(spec: dict, task: dict) -> str:
    """The load block for ``spec``."""
    if spec.get("items") == "pixels":
        return header("load", spec) + _pixel_loader(spec, task) + footer("load")
    body = _items_loader(spec, item_suffix(task), bool(task.get("test_file"))) if spec.get("items") else _table_loader(spec)
    return header("load", spec) + body.lstrip("\n") + footer("load")
