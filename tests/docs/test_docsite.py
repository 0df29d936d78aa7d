"""The docs site as a reader gets it: built by scripts/docs (antsibull-docs + Sphinx, offline, nitpicky,
every internal link checked), then opened in headless Chromium. Not in pyproject's testpaths: scripts/test
runs this suite in a stage of its own (``pytest tests/docs``).
"""

import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from PIL import Image, ImageStat

ROOT = Path(__file__).resolve().parents[2]
SHOTS = {
    "index": "index",
    "module": "collections__sotsync__nautobot__golden_config_deploy_module",
    "event source": "eda__webhook",
}


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("docsite")
    proc = subprocess.run(
        [str(ROOT / "scripts" / "docs"), str(out)], capture_output=True, text=True, timeout=600, check=False
    )
    print(proc.stdout[-3000:])
    assert proc.returncode == 0, f"scripts/docs exited {proc.returncode}:\n{proc.stdout[-5000:]}\n{proc.stderr[-5000:]}"
    assert "0 broken" in proc.stdout
    return out


class Text(HTMLParser):
    """The headings and the visible text of a DOM dump."""

    def __init__(self):
        super().__init__()
        self.headings, self.text, self._in = [], [], []

    def handle_starttag(self, tag, attrs):
        heading = tag in ("h1", "h2", "h3") or dict(attrs).get("role") == "heading"  # toctree captions
        self._in.append((tag, heading))

    def handle_endtag(self, tag):
        while self._in and self._in.pop()[0] != tag:
            pass

    def handle_data(self, data):
        if any(tag in ("script", "style") for tag, _ in self._in):
            return
        self.text.append(data)
        if any(heading for _, heading in self._in) and data.strip():
            self.headings.append(" ".join(data.split()))

    def joined(self):
        return " ".join(" ".join(self.text).split())


def dom(site, page):
    parser = Text()
    parser.feed((site / "browser" / f"{SHOTS[page]}.html").read_text())
    return parser


@pytest.mark.parametrize("page", sorted(SHOTS))
def test_screenshot_is_not_blank(site, page):
    with Image.open(site / "browser" / f"{SHOTS[page]}.png") as image:
        assert image.size[0] >= 1000 and image.size[1] >= 1000, image.size
        gray = image.convert("L")
        histogram = gray.histogram()
        background = max(range(256), key=histogram.__getitem__)
        ink = sum(count for value, count in enumerate(histogram) if abs(value - background) > 40)
        share = ink / (gray.size[0] * gray.size[1])
        # a page of text: a few percent of the pixels differ clearly from the background, in many shades
        assert share > 0.02, f"{page}: {share:.1%} of the pixels differ from the background"
        assert len(image.convert("RGB").getcolors(1 << 20) or []) > 50
        assert ImageStat.Stat(gray).stddev[0] > 10


def test_index_shows_the_site(site):
    parsed = dom(site, "index")
    assert "sotsync.nautobot" in parsed.headings
    for section in ("Collection", "Event-Driven Ansible", "Playbooks", "Guides"):
        assert section in parsed.headings, parsed.headings
    text = parsed.joined()
    for name in ("sotsync.nautobot.webhook event source", "sotsync.nautobot.changelog event source"):
        assert name in text


def test_module_page_shows_options_examples_and_return_values(site):
    parsed = dom(site, "module")
    assert any(h.startswith("sotsync.nautobot.golden_config_deploy module") for h in parsed.headings), parsed.headings
    for heading in ("Synopsis", "Parameters", "Examples", "Return Values"):
        assert heading in parsed.headings, parsed.headings
    assert "device_filter" in parsed.joined()


def test_event_source_page_shows_options_examples_and_events(site):
    parsed = dom(site, "event source")
    assert any(h.startswith("sotsync.nautobot.webhook event source") for h in parsed.headings), parsed.headings
    for heading in ("Synopsis", "Parameters", "Examples", "Events it puts on the queue"):
        assert heading in parsed.headings, parsed.headings
    text = parsed.joined()
    assert "X-Hook-Signature" in text and "changed_fields" in text and "max_body_bytes" in text


def test_every_piece_of_the_collection_has_a_page(site):
    html = site / "html"
    for module in (ROOT / "plugins" / "modules").glob("*.py"):
        assert (html / "collections" / "sotsync" / "nautobot" / f"{module.stem}_module.html").exists(), module.stem
    for role in (ROOT / "roles").iterdir():
        assert (html / "collections" / "sotsync" / "nautobot" / f"{role.name}_role.html").exists(), role.name
    for plugin in (ROOT / "extensions" / "eda" / "plugins").glob("*/*.py"):
        assert (html / "eda" / f"{plugin.stem}.html").exists(), plugin
    playbooks = (html / "playbooks.html").read_text()
    for playbook in (ROOT / "playbooks").glob("*.yml"):
        assert f"sotsync.nautobot.{playbook.stem}" in playbooks, playbook.stem
    rulebooks = (html / "rulebooks.html").read_text()
    for rulebook in (ROOT / "rulebooks").glob("*.yml"):
        if rulebook.name != "inventory.yml":
            assert f"sotsync.nautobot.{rulebook.stem}" in rulebooks, rulebook.stem
    for setting in yaml.safe_load((ROOT / "rulebooks" / "vars" / "device_config_hook.yml").read_text()):
        assert setting in rulebooks, setting
    for guide in ["README.md", *(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md") if p.name != "developer.md")]:
        name = "readme" if guide == "README.md" else Path(guide).stem
        assert (html / "guides" / f"{name}.html").exists(), guide
