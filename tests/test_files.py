"""Atomic writes: complete files with the usual permissions, or nothing at all."""

from __future__ import annotations

import os
import stat

import pytest

from hessian_lab.files import atomic_write, atomic_write_many


def test_written_file_has_umask_permissions_not_private_ones(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "a.txt", lambda h: h.write("hello"), mode="w")
    finally:
        os.umask(old)
    assert path.read_text() == "hello"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failing_writer_leaves_the_old_file_and_no_temporaries(tmp_path):
    target = tmp_path / "keep.bin"
    target.write_bytes(b"old")

    def explode(handle):
        handle.write(b"partial")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, explode)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.bin"]


def test_many_files_are_staged_before_any_lands(tmp_path):
    written = atomic_write_many(tmp_path / "out", {"a.csv": b"1", "b.json": b"{}"})
    assert sorted(p.name for p in written) == ["a.csv", "b.json"]
    assert (tmp_path / "out" / "b.json").read_bytes() == b"{}"

    folder = tmp_path / "new" / "fails"
    with pytest.raises(TypeError):  # a payload that cannot be written stops everything
        atomic_write_many(folder, {"a.csv": b"1", "b.json": object()})
    assert list(tmp_path.iterdir()) == [tmp_path / "out"]  # no folder, no parent, no temporary


def test_a_new_folder_appears_complete_with_the_usual_mode(tmp_path):
    folder = tmp_path / "a" / "b"
    written = atomic_write_many(folder, {"x.txt": b"x", "y.txt": b"yy"})
    assert [p.read_bytes() for p in written] == [b"x", b"yy"]
    assert sorted(p.name for p in tmp_path.joinpath("a").iterdir()) == ["b"]
    umask = os.umask(0)
    os.umask(umask)
    assert folder.stat().st_mode & 0o777 == 0o777 & ~umask
