"""An audio task of real recorded instrument notes (pretty-midi's General MIDI SoundFont)."""

from __future__ import annotations

import importlib.util
import io
import struct
import wave
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd

from mle_star.examples.common import EXTRA_HINT, Built, MissingExampleData, _hex_ids, _split

# ---------------------------------------------------------------- audio: real instrument notes

_SF2_NAME = "TimGM6mb.sf2"
AUDIO_RATE = 22050  # every clip is resampled to one rate, so the rate says nothing about the label
_MIN_SECONDS = 0.05  # shorter samples are single waveform cycles kept for looping, not notes


def _soundfont_path() -> Path:
    spec = importlib.util.find_spec("pretty_midi")  # finds the package without importing it
    path = Path(next(iter(spec.submodule_search_locations or []), "")) / _SF2_NAME if spec else None
    if path is None or not path.is_file():
        raise MissingExampleData(f"the audio example needs pretty-midi's {_SF2_NAME}: {EXTRA_HINT}")
    return path


def _sf2_notes(path: Path) -> list[tuple[str, int, np.ndarray, set[int]]]:
    """(name, sample rate, int16 PCM, banks that play it) of every sample in a SoundFont 2 file.

    SF2 keeps PCM in sdta/smpl and, in pdta, sample headers (shdr) and the chain preset ->
    preset zones (pbag, pgen: generator 41 = instrument) -> instrument zones (ibag, igen:
    generator 53 = sample); bank 128 is the General MIDI percussion kit.
    """
    data = path.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise ValueError(f"{path} is not a SoundFont 2 file")
    chunks: dict[bytes, tuple[int, int]] = {}

    def walk(offset: int, end: int) -> None:
        while offset + 8 <= end:
            cid, size = data[offset:offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
            if cid == b"LIST":
                walk(offset + 12, offset + 8 + size)
            else:
                chunks[cid] = (offset + 8, size)
            offset += 8 + size + (size & 1)

    walk(12, len(data))

    def records(cid: bytes, fmt: str) -> list[tuple]:
        start, size = chunks[cid]
        step = struct.calcsize(fmt)
        return [struct.unpack_from(fmt, data, start + i) for i in range(0, size - step + 1, step)]

    phdr, pbag, pgen = records(b"phdr", "<20sHHHIII"), records(b"pbag", "<HH"), records(b"pgen", "<HH")
    inst, ibag, igen = records(b"inst", "<20sH"), records(b"ibag", "<HH"), records(b"igen", "<HH")
    shdr = records(b"shdr", "<20sIIIIIBbHH")
    start, size = chunks[b"smpl"]
    pcm = np.frombuffer(data, dtype="<i2", count=size // 2, offset=start)

    def generators(bags: list[tuple], gens: list[tuple], first: int, last: int, op: int) -> list[int]:
        return [gens[g][1] for b in range(first, last) for g in range(bags[b][0], bags[b + 1][0]) if gens[g][0] == op]

    banks: dict[int, set[int]] = {}
    for p in range(len(phdr) - 1):  # the last record of each list is a terminator
        for i in generators(pbag, pgen, phdr[p][3], phdr[p + 1][3], 41):
            for s in generators(ibag, igen, inst[i][1], inst[i + 1][1], 53):
                banks.setdefault(s, set()).add(phdr[p][2])
    notes = []
    for s, (name, begin, end, _loop_start, _loop_end, rate, *_rest) in enumerate(shdr[:-1]):
        if s in banks and rate > 0:
            notes.append((name.split(b"\0")[0].decode("latin-1"), rate, pcm[begin:end], banks[s]))
    return notes


def _wav_bytes(samples: np.ndarray, rate: int) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.astype("<i2").tobytes())
    return buffer.getvalue()


def _audio_wav(public: Path, rng: np.random.Generator) -> Built:
    from scipy.signal import resample_poly

    clips, labels = [], []
    for _name, rate, pcm, banks in _sf2_notes(_soundfont_path()):
        if len(pcm) < _MIN_SECONDS * rate:
            continue
        ratio = Fraction(AUDIO_RATE, rate).limit_denominator(1000)
        audio = resample_poly(pcm.astype(np.float64), ratio.numerator, ratio.denominator)
        clips.append(_wav_bytes(np.clip(np.round(audio), -32768, 32767), AUDIO_RATE))
        labels.append(int(128 in banks))  # 1: a sample of the General MIDI percussion kit
    names = [f"{h}.wav" for h in _hex_ids(len(clips), rng)]
    # Few percussion clips: a larger, stratified test share keeps the test AUC from resting on a handful.
    train, test = _split(len(clips), rng, 0.3, strata=np.array(labels))
    for part, rows in (("train", train), ("test", test)):
        (public / part).mkdir()
        for i in rows:
            (public / part / names[i]).write_bytes(clips[i])
    frame = pd.DataFrame({"clip": names, "label": labels})
    frame.iloc[train].to_csv(public / "train.csv", index=False)
    sample = pd.DataFrame({"clip": frame.iloc[test]["clip"], "probability": 0.5})
    description = f"""# Percussion Detection in Instrument Recordings

## Overview

Each clip is one recorded note from the General MIDI SoundFont `TimGM6mb.sf2` (Tim Brechbill's
6 MB SoundFont, shipped with the Python package pretty-midi): piano, organ, guitar, strings, brass,
reed and pipe instruments, ethnic and synthesizer sounds, and the drums and percussion of the General
MIDI percussion kit. Your task is to detect the percussion-kit sounds: label 1 means that the clip is a
sample of the percussion kit, 0 that it is a note of a melodic instrument.

All clips are mono 16-bit PCM WAV files resampled to {AUDIO_RATE} Hz; they last from
{_MIN_SECONDS:.2f} s to a few seconds.

## Evaluation

Submissions are judged on area under the ROC curve.

## Submission File

For each clip in the test set, predict a probability that it is a percussion-kit sample. The file
should contain a header and have the following format:

```
clip,probability
{sample['clip'].iloc[0]},0.5
...
```

## Data

- `train/` - {len(train)} WAV clips
- `train.csv` - the `label` (1 percussion kit, 0 melodic instrument) of each training `clip`
- `test/` - {len(test)} WAV clips
- `sample_submission.csv` - a sample submission file in the correct format
"""
    return Built(description, frame.iloc[test][["clip", "label"]], sample, "auc", True, "probability",
                 ["label"])


