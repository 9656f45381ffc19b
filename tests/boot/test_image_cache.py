"""Two overlapping runs that need the boot image: one builds it, the other waits and uses the same
complete image (a lock in the cache root, and a rename into the cache). Runs in the fast suite: the
expensive build is replaced by a cheap one."""

from __future__ import annotations

import threading
import time

from tests.boot import image


def test_two_overlapping_builds_build_once_and_both_get_the_complete_image(tmp_path, monkeypatch):
    monkeypatch.setenv("THREETIER_BOOT_CACHE", str(tmp_path))
    builds = []
    start = threading.Barrier(2)

    def slow_build(rootfs):
        builds.append(rootfs)
        rootfs.mkdir()  # as debootstrap makes it
        (rootfs / "half").write_text("")
        time.sleep(0.5)  # long enough for the other run to arrive in the middle
        (rootfs / "complete").write_text("")

    results, errors = [], []

    def run():
        start.wait()
        try:
            results.append(image.image(populate=slow_build))
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(builds) == 1
    assert results[0] == results[1] == tmp_path / image.key() / "rootfs"
    assert sorted(path.name for path in results[0].iterdir()) == ["complete", "half"]
    assert not (tmp_path / f"{image.key()}.building").exists()


def test_a_build_killed_half_way_is_not_used_and_is_built_again(tmp_path, monkeypatch):
    monkeypatch.setenv("THREETIER_BOOT_CACHE", str(tmp_path))
    left = tmp_path / f"{image.key()}.building" / "rootfs"
    left.mkdir(parents=True)
    (left / "half").write_text("")

    def build(rootfs):
        rootfs.mkdir()
        (rootfs / "complete").write_text("")

    built = image.image(populate=build)

    assert [path.name for path in built.iterdir()] == ["complete"]
