"""Landing: request identity, safe paths, atomic commits."""

from __future__ import annotations

from pathlib import Path

from kmu_pipeline.landing import LandingStore, Request


def test_request_id_ignores_host_and_parameter_order():
    a = Request("eurostat", "x", "data/f/A..", query=(("a", "1"), ("b", "2")))
    b = Request("eurostat", "x", "data/f/A..", query=(("b", "2"), ("a", "1")))
    assert a.request_id == b.request_id and len(a.request_id) == 16
    assert a.request_id != Request("eurostat", "x", "data/f/A..", method="POST").request_id


def test_hostile_names_stay_inside_the_landing_root(tmp_path: Path):
    store = LandingStore(tmp_path / "raw")
    request = Request("../../etc", "../passwd", "../../../x/../../y")
    folder = store.folder(request)
    assert folder.resolve().is_relative_to((tmp_path / "raw").resolve())
    assert ".." not in folder.relative_to(tmp_path / "raw").parts


def test_commit_keeps_each_version_and_points_to_latest(tmp_path: Path):
    store = LandingStore(tmp_path)
    request = Request("eurostat", "cloud", "data/isoc_cicce_use/A..")
    for body in (b"first", b"second"):
        tmp = store.temp_body(request)
        with tmp:
            tmp.write(body)
        landed = store.commit(request, Path(tmp.name), url="http://h/x", status=200,
                              headers={"Content-Type": "text/csv", "Set-Cookie": "s"})
    assert landed.body_path(tmp_path).read_bytes() == b"second"
    assert store.latest(request).sha256 == landed.sha256
    assert len(list(store.folder(request).glob("*.body"))) == 2
    # only allow-listed headers kept, lower-cased whatever the server's spelling
    assert landed.headers == {"content-type": "text/csv"}
    assert landed.content_type == "text/csv"
    assert not list(store.folder(request).glob(".partial-*"))
