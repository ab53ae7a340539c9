"""Images, audio, arrays and text files: facts from their headers (WAV, AIFF, NPY, PIL)."""

from __future__ import annotations

import os
import struct
import warnings
import wave
import zipfile
from pathlib import Path
from typing import IO, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from mle_star.tools.task.inventory.base import (
    JSON_COUNT_LIMIT,
    InventoryError,
    _cut,
    _public,
    _suffixes,
)
from mle_star.tools.task.inventory.streams import _scan, _source

# ---------------------------------------------------------------- images, audio, arrays, text


def _image_stream_facts(fh: IO[bytes]) -> dict:
    # Image.open parses the header only; pixels are decoded on first access, which never comes.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(fh)
        except UnidentifiedImageError:  # its message names the file object, not the reason
            raise InventoryError("not a readable image (corrupt or unsupported format)") from None
        with im:
            return {"format": im.format, "width": im.width, "height": im.height, "mode": im.mode}


@_public
def image_facts(path: Path) -> dict:
    """Format, width, height and mode from the image header."""
    with open(path, "rb") as fh:
        return _image_stream_facts(fh)


WAV_ENCODINGS = {1: "PCM", 3: "float", 6: "A-law", 7: "mu-law"}


def _riff_facts(fh: IO[bytes]) -> dict:
    """WAV facts from the RIFF chunks, for encodings the wave module refuses (float, extensible)."""
    head = fh.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise InventoryError("not a RIFF/WAVE file")
    fmt: tuple[int, int, int, int] | None = None
    while len(chunk := fh.read(8)) == 8:
        cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if cid == b"fmt ":
            body = fh.read(size + (size & 1))
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            if fmt is None or not fmt[1] or not fmt[3]:
                raise InventoryError("WAV data before its format chunk")
            tag, channels, rate, bits = fmt
            frames = size // (channels * max(1, bits // 8))
            return {"format": "wav", "encoding": WAV_ENCODINGS.get(tag, f"format {tag}"),
                    "sample_rate": rate, "channels": channels, "sample_width": bits // 8,
                    "n_frames": frames, "duration": round(frames / rate, 3) if rate else None}
        else:
            fh.seek(size + (size & 1), os.SEEK_CUR)
    raise InventoryError("WAV file without a data chunk")


def _audio_stream_facts(fh: IO[bytes], name: str) -> dict:
    ext = _suffixes(name)[0] or ".wav"
    if ext == ".wav":
        try:
            with wave.open(fh) as w:
                rate, frames = w.getframerate(), w.getnframes()
                return {"format": "wav", "encoding": "PCM", "sample_rate": rate,
                        "channels": w.getnchannels(), "sample_width": w.getsampwidth(),
                        "n_frames": frames, "duration": round(frames / rate, 3) if rate else None}
        except (wave.Error, EOFError):
            fh.seek(0)
            return _riff_facts(fh)
    if ext in {".aif", ".aiff", ".aifc"}:
        facts = _aifc_facts(fh, ext)
        if facts is not None:
            return facts
    return {"format": ext[1:],
            "note": f"{ext} audio: reading it needs an extra package (e.g. soundfile or librosa)"}


def _aifc_facts(fh: IO[bytes], ext: str) -> dict | None:
    """An AIFF / AIFC clip's header; None where the aifc module is gone (removed in Python 3.13)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            import aifc
        except ImportError:
            return None
    with aifc.open(fh) as a:
        rate, frames = a.getframerate(), a.getnframes()
        return {"format": ext[1:], "encoding": a.getcomptype().decode("ascii", "replace"),
                "sample_rate": rate, "channels": a.getnchannels(),
                "sample_width": a.getsampwidth(), "n_frames": frames,
                "duration": round(frames / rate, 3) if rate else None}


@_public
def audio_facts(path: Path) -> dict:
    """WAV/AIFF: sample rate, channels, sample width, duration; other formats: format only."""
    with open(path, "rb") as fh:
        return _audio_stream_facts(fh, Path(path).name)


def _npy_stream_facts(fh: IO[bytes]) -> dict:
    """Shape and dtype from the .npy header; the array itself is never loaded."""
    version = np.lib.format.read_magic(fh)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
    else:  # 2.0 and 3.0 share the 4-byte header length
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
    return {"format": "npy", "shape": [int(n) for n in shape], "dtype": str(dtype),
            "fortran_order": bool(fortran)}


def _array_facts(path: Path, fmt: str) -> dict:
    if fmt == "npy":
        with open(path, "rb") as fh:
            return _npy_stream_facts(fh)
    arrays = {}
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.endswith(".npy")]
        for name in names[:20]:
            with archive.open(name) as fh:
                arrays[name[:-4]] = _npy_stream_facts(fh)
    return {"format": "npz", "n_arrays": len(names), "arrays": arrays}


def _text_facts(path: Path) -> dict:
    with open(path, "rb") as fh:
        first = fh.readline(1000).decode("utf-8", errors="replace").strip()
    facts: dict[str, Any] = {"first_line": _cut(first, 200)}
    if path.stat().st_size <= JSON_COUNT_LIMIT:
        facts["n_lines"] = _scan(_source(path, "none"), None, quotes=False).lines
    return facts


