"""Archives as tools write them: unpacked readable by the sandboxed scripts' user, junk left
out, one top folder dropped, and a Kaggle download (the whole task in one zip) read as a task."""

from __future__ import annotations

import io
import os
import shutil
import stat
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from mle_star.tools.task.archives import ArchiveError, extract, is_archive, member_names, unbundle
from mle_star.tools.task.intake import fingerprint, read_task


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def _modes(root: Path) -> set[tuple[str, int]]:
    return {("d" if p.is_dir() else "f", stat.S_IMODE(p.stat().st_mode)) for p in [root, *root.rglob("*")]}


def test_top_level_members_unpack_readable_by_another_user():
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="mle-star-archive-"))  # pytest's tmp_path is 0700: 'nobody' cannot enter
    try:
        os.chmod(base, 0o755)
        archive = _zip(base / "train.zip", {"a.png": b"png-a", "sub/b.png": b"png-b"})
        old = os.umask(0o077)  # the strictest a user may have: nothing is readable by others unless fixed
        try:
            extract(archive, base / "train")
        finally:
            os.umask(old)
        out = base / "train"
        assert sorted(str(p.relative_to(out)) for p in out.rglob("*.png")) == ["a.png", "sub/b.png"]
        assert _modes(out) == {("d", 0o755), ("f", 0o644)}
        # the sandboxed scripts run as an unprivileged user: as root here, read as 'nobody'
        read = subprocess.run(["cat", str(out / "sub" / "b.png")], capture_output=True, text=True,
                              user=65534, group=65534)
        assert read.returncode == 0 and read.stdout == "png-b", read.stderr
    finally:
        shutil.rmtree(base)


def test_one_top_folder_named_like_the_archive_is_dropped_and_mac_junk_left_out(tmp_path):
    archive = _zip(tmp_path / "test.zip", {"test/1.jpg": b"1", "test/2.jpg": b"2", "__MACOSX/test/._1.jpg": b"x",
                                           "test/.DS_Store": b"x"})
    assert member_names(archive) == ["test/1.jpg", "test/2.jpg"]
    extract(archive, tmp_path / "test")
    assert sorted(p.name for p in (tmp_path / "test").iterdir()) == ["1.jpg", "2.jpg"]


def test_tarballs_unpack_and_unsafe_paths_stay_inside(tmp_path):
    archive = tmp_path / "imgs.tar.gz"
    with tarfile.open(archive, "w:gz") as t:
        for name, data in {"imgs/x.png": b"x", "../evil.txt": b"evil"}.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            t.addfile(info, io.BytesIO(data))
    with pytest.raises(ArchiveError, match="imgs.tar.gz"):  # the data filter refuses a member outside
        extract(archive, tmp_path / "out" / "imgs")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "evil.txt").exists()
    assert not (tmp_path / "out" / "imgs").exists()  # nothing half-unpacked is left in place
    with tarfile.open(archive := tmp_path / "ok.tgz", "w:gz") as t:
        info = tarfile.TarInfo("ok/x.png")
        info.size, info.mode = 1, 0o600
        t.addfile(info, io.BytesIO(b"x"))
    extract(archive, tmp_path / "ok")
    assert _modes(tmp_path / "ok") == {("d", 0o755), ("f", 0o644)}


def test_a_zipped_table_is_a_table_not_an_archive():
    assert is_archive("train.zip") and is_archive("images.tar.gz")
    assert not is_archive("train.csv.zip") and not is_archive("en_train.csv.zip")


def test_a_kaggle_download_is_read_from_its_unpacked_copy(bc_task, tmp_path):
    task = tmp_path / "download"
    shutil.copytree(bc_task, task)
    public = task / "public"
    _zip(public / "breast-cancer.zip", {"breast-cancer/train.csv": (public / "train.csv").read_bytes(),
                                        "breast-cancer/test.csv": (public / "test.csv").read_bytes()})
    (public / "train.csv").unlink()
    (public / "test.csv").unlink()
    before = sorted(p.name for p in public.iterdir())
    intake = read_task(task)
    assert intake.label_source is not None and intake.label_source["file"] == "train.csv"
    assert intake.test_file == "test.csv" and intake.n_test == len(pd.read_csv(public / "sample_submission.csv"))
    assert Path(intake.data_dir) != public and "inside breast-cancer.zip" in intake.notes[0]
    assert sorted(p.name for p in public.iterdir()) == before  # the user's folder is untouched
    assert unbundle(public, public / "breast-cancer.zip") == Path(intake.data_dir)  # unpacked once
    assert intake.fingerprint == fingerprint(public)  # resume checks the user's folder, not the copy
