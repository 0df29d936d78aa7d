"""The collection as a user gets it: built into a tarball, installed offline into a fresh path.

Every test here works on that installed copy (helpers in collection_package.py).
"""

import pytest
from tests.packaging.collection_package import ROOT, Installed, clean_env, run, tool


@pytest.fixture(scope="session")
def installed(tmp_path_factory):
    """``ansible-galaxy collection build`` of the checkout, then an offline install into a new path."""
    work = tmp_path_factory.mktemp("packaging")
    dist = work / "dist"
    collections_path = work / "collections"
    env = clean_env(collections_path)
    run([tool("ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(dist)], env, work)
    tarballs = sorted(dist.glob("sotsync-nautobot-*.tar.gz"))
    assert len(tarballs) == 1, tarballs
    run(
        [tool("ansible-galaxy"), "collection", "install", str(tarballs[0]), "-p", str(collections_path), "--offline"],
        env,
        work,
    )
    return Installed(tarballs[0], collections_path, work)
