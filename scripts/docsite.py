"""The docs site's own pages and checks (run by scripts/docs; not part of the built collection).

antsibull-docs documents the modules, the role and the doc fragments, but not what ansible-doc cannot
load: the Event-Driven Ansible event sources and filter, the playbooks, the rulebooks, and the Markdown
guides. This writes those pages into the Sphinx source tree from the collection's own files (the EDA
plugins' DOCUMENTATION and EXAMPLES, the playbooks' and rulebooks' header comments, the settings file,
docs/*.md and README.md), so the site never drifts from them. Then it checks every internal link and
anchor of the built HTML, and opens pages in headless Chromium (screenshots and DOM dumps).

    python scripts/docsite.py pages COLLECTION_DIR RST_DIR
    python scripts/docsite.py inventory OBJECTS_INV
    python scripts/docsite.py check-links HTML_DIR
    python scripts/docsite.py browse HTML_DIR OUT_DIR PAGE...
"""

import ast
import html.parser
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from urllib.parse import unquote, urlsplit

import zlib

import yaml
from antsibull_docs.rst_labels import get_option_ref
from antsibull_docs_parser import dom
from antsibull_docs_parser.parser import Context, parse
from antsibull_docs_parser.rst import DEFAULT_PLAIN_FORMATTER, rst_escape, to_rst

COLLECTION = "sotsync.nautobot"
LABEL = "ansible_collections.sotsync.nautobot.docsite."
# docs/*.md that are for the checkout, not for users of the collection
CHECKOUT_DOCS = {"developer.md"}
IMAGE_SUFFIXES = (".png", ".svg", ".jpg", ".jpeg", ".gif", ".webp")
MD_LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(([^()\s]+)\)")


def heading(text, char, over=False):
    line = char * len(text)
    return f"{line}\n{text}\n{line}\n" if over else f"{text}\n{line}\n"


def indent(text, spaces):
    return textwrap.indent(text, " " * spaces, lambda line: line.strip() != "")


# --- EDA plugins ---------------------------------------------------------------------------------------


def plugin_strings(path):
    """The module-level string constants (DOCUMENTATION, EXAMPLES) and docstring of a plugin file."""
    tree = ast.parse(path.read_text())
    found = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    return found


def markup(text, plugin):
    """Ansible documentation markup (C(), O(), E()...) as plain reStructuredText. (antsibull-docs' own
    roles refuse an option of an EDA plugin: event_source is not an Ansible plugin type.)"""
    paragraphs = parse(text, Context(current_plugin=plugin))
    rst = to_rst(paragraphs, formatter=DEFAULT_PLAIN_FORMATTER, current_plugin=plugin)
    # An option of this very plugin needs no "(of event_source plugin ...)" after it.
    rst = re.sub(rf"\\? \(of {plugin.type} plugin :ref:`{re.escape(plugin.fqcn)} <[^>]+>`\)", "", rst)
    return rst.replace(":envvar:", ":literal:")  # Sphinx's envvar role wants an envvar directive


def as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def option_rows(options, plugin):
    rows = []
    for name, spec in options.items():
        kind = spec.get("type", "str")
        if spec.get("elements"):
            kind += f" / elements={spec['elements']}"
        if spec.get("required"):
            kind += " / required"
        cell = [markup(paragraph, plugin) for paragraph in as_list(spec.get("description"))]
        if "choices" in spec:
            choices = ", ".join(f":ansval:`{rst_escape(str(choice))}`" for choice in spec["choices"])
            cell.append(f"Choices: {choices}")
        if "default" in spec:
            default = yaml.safe_dump(spec["default"], default_flow_style=True, width=10_000).strip()
            default = default.removesuffix("\n...").removesuffix("...").strip()
            cell.append(f"Default: :ansval:`{rst_escape(default)}`")
        if spec.get("version_added"):
            cell.append(f"Added in {COLLECTION} {spec['version_added']}.")
        # The label antsibull-docs' O(...) markup links to, as on its own plugin pages.
        anchor = get_option_ref(plugin.fqcn, plugin.type, None, [name])
        rows.append((f".. _{anchor}:\n\n**{rst_escape(name)}**", kind, cell))
    return rows


def list_table(header, rows, widths):
    out = [f".. list-table::\n   :header-rows: 1\n   :widths: {' '.join(map(str, widths))}\n"]
    for row in [header, *rows]:
        for index, cell in enumerate(row):
            paragraphs = cell if isinstance(cell, list) else [cell]
            body = "\n\n".join(p.strip() for p in paragraphs if p.strip()) or "\\"
            lead = "   * - " if index == 0 else "     - "
            out.append(lead + indent(body, 7).lstrip() + "\n")
    return "\n".join(out)


def event_shape(collection):
    """The event's shape, the first YAML block of docs/event.md's "Shape" section."""
    text = (collection / "docs" / "event.md").read_text()
    section = text.split("\n## Shape", 1)[1]
    return section.split("```yaml\n", 1)[1].split("\n```", 1)[0]


EVENTS = {
    "event_source": (
        "Events it puts on the queue",
        "Each accepted change becomes one event about one device (or one config plan event with "
        "``configplan`` in its models). Rulebooks test these fields; the :doc:`event guide <../guides/event>` "
        "describes every field, IP address, related-object and config plan events, and the conditions that "
        "work on them.",
    ),
    "event_filter": (
        "Events it passes on",
        "Each usable Nautobot device webhook body becomes the collection's device event, the same as the "
        "sources emit; other bodies are dropped with a warning. See the :doc:`event guide <../guides/event>`, "
        "section *Event streams*.",
    ),
}


def eda_page(collection, path):
    kind = path.parent.name  # event_source or event_filter
    name = path.stem
    fqcn = f"{COLLECTION}.{name}"
    strings = plugin_strings(path)
    doc = yaml.safe_load(strings["DOCUMENTATION"])
    plugin = dom.PluginIdentifier(fqcn=fqcn, type=kind)
    title = f"{fqcn} {kind.replace('_', ' ')} -- {doc['short_description'].rstrip('.')}"
    # the second label is where O(...) markup of this plugin links to, as on antsibull-docs' plugin pages
    out = [f".. _{LABEL}eda.{name}:\n.. _ansible_collections.{fqcn}_{kind}:\n", heading(title, "=", over=True)]
    out.append(
        f"This {kind.replace('_', ' ')} is part of the {COLLECTION} collection (an Event-Driven Ansible "
        f"plugin in ``extensions/eda/plugins/{kind}/{name}.py``; ``ansible-doc`` does not show EDA plugins). "
        f"Use it in a rulebook as ``{fqcn}``.\n"
    )
    if doc.get("version_added"):
        out.append(f"Added in {COLLECTION} {doc['version_added']}.\n")
    out.append(heading("Synopsis", "-"))
    for paragraph in as_list(doc.get("description")):
        out.append("- " + indent(markup(paragraph, plugin), 2).lstrip() + "\n")
    if doc.get("requirements"):
        out.append(heading("Requirements", "-"))
        out.extend(f"- {rst_escape(str(req))}\n" for req in doc["requirements"])
    out.append(heading("Parameters", "-"))
    out.append(
        list_table(["Parameter", "Type", "Comments"], option_rows(doc.get("options") or {}, plugin), [20, 15, 65])
    )
    if strings.get("EXAMPLES"):
        out.append(heading("Examples", "-"))
        out.append(".. code-block:: yaml+jinja\n\n" + indent(strings["EXAMPLES"].strip("\n"), 4) + "\n")
    events_title, events_text = EVENTS[kind]
    out.append(heading(events_title, "-"))
    out.append(events_text + "\n")
    out.append(".. code-block:: yaml\n\n" + indent(event_shape(collection), 4) + "\n")
    return "\n".join(out)


# --- playbooks and rulebooks ---------------------------------------------------------------------------


def header_comment(path):
    """The comment block at the top of a YAML file (after ``---``), without the ``#``."""
    lines = []
    for line in path.read_text().splitlines():
        if line.strip() == "---" and not lines:
            continue
        if not line.startswith("#"):
            break
        lines.append(line[2:] if line.startswith("# ") else line[1:])
    return lines


def comment_as_rst(lines):
    """Prose lines as paragraphs, indented lines (commands) as code blocks."""
    out, prose, code = [], [], []

    def flush():
        if prose:
            out.append(rst_escape(" ".join(prose)) + "\n")
            prose.clear()
        if code:
            out.append(".. code-block:: console\n\n" + indent(textwrap.dedent("\n".join(code)), 4) + "\n")
            code.clear()

    for line in lines:
        if not line.strip():
            flush()
        elif line.startswith("  "):
            if prose:
                flush()
            code.append(line)
        else:
            if code:
                flush()
            prose.append(line.strip())
    flush()
    return "\n".join(out)


def inline_yaml(value):
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("...").strip()


def playbooks_page(collection):
    out = [f".. _{LABEL}playbooks:\n", heading(f"{COLLECTION} playbooks", "=", over=True)]
    out.append(
        "Run them by name from any folder once the collection is installed, e.g. "
        f"``ansible-playbook {COLLECTION}.provision_device -e device=access1 --check --diff``. "
        "What follows is each playbook's own header and the extra vars it defines.\n"
    )
    for path in sorted((collection / "playbooks").glob("*.yml")):
        plays = yaml.safe_load(path.read_text()) or []
        out.append(f".. _{LABEL}playbooks.{path.stem}:\n")
        out.append(heading(f"{COLLECTION}.{path.stem}", "-"))
        if plays and plays[0].get("name"):
            out.append(f"*{rst_escape(plays[0]['name'])}*\n")
        out.append(comment_as_rst(header_comment(path)))
        variables = {k: v for play in plays for k, v in (play.get("vars") or {}).items()}
        if variables:
            rows = [(f"``{name}``", f"``{rst_escape(inline_yaml(value))}``") for name, value in variables.items()]
            out.append(list_table(["Extra var", "Default"], rows, [40, 60]))
    return "\n".join(out)


def settings_rows(path):
    """The settings file's top-level keys with their default and the comment above each."""
    rows, comment = [], []
    data = yaml.safe_load(path.read_text())
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            comment.append(line.lstrip("#").strip())
        elif not line.strip() or line.strip() == "---":
            comment = []
        elif re.match(r"^[A-Za-z_][A-Za-z0-9_]*:", line):
            key = line.split(":", 1)[0]
            rows.append((f"``{key}``", f"``{rst_escape(inline_yaml(data[key]))}``", rst_escape(" ".join(comment))))
            comment = []
    return rows


def rulebooks_page(collection):
    out = [f".. _{LABEL}rulebooks:\n", heading(f"{COLLECTION} rulebooks", "=", over=True)]
    out.append(
        "Run a rulebook by name with ``ansible-rulebook --rulebook sotsync.nautobot.<name>``; the settings "
        "are passed with ``--vars`` (the shipped ``rulebooks/vars/device_config_hook.yml``, or a copy). "
        "Each rulebook's header, its sources and its rules, in the order they are tried, follow.\n"
    )
    for path in sorted((collection / "rulebooks").glob("*.yml")):
        if path.name == "inventory.yml":
            continue
        rulesets = yaml.safe_load(path.read_text())
        out.append(f".. _{LABEL}rulebooks.{path.stem}:\n")
        out.append(heading(f"{COLLECTION}.{path.stem}", "-"))
        out.append(comment_as_rst(header_comment(path)))
        for ruleset in rulesets:
            out.append(heading(f"Rule set: {ruleset['name']}", "~"))
            out.append("**Sources**\n")
            for source in ruleset.get("sources", []):
                plugin = next(k for k in source if k not in {"name", "filters"})
                target = plugin.rsplit(".", 1)[-1]
                link = f":ref:`{plugin} <{LABEL}eda.{target}>`" if plugin.startswith(COLLECTION) else f"``{plugin}``"
                out.append(f"- {rst_escape(source.get('name', plugin))}: {link}\n")
                out.append(
                    ".. code-block:: yaml+jinja\n\n" + indent(yaml.safe_dump(source[plugin], sort_keys=False), 6)
                )
            out.append("**Rules** (the first that matches an event decides)\n")
            for number, rule in enumerate(ruleset.get("rules", []), 1):
                out.append(f"{number}. {rst_escape(rule['name'])}\n")
    settings = collection / "rulebooks" / "vars" / "device_config_hook.yml"
    out.append(f".. _{LABEL}rulebooks.settings:\n")
    out.append(heading("Settings (rulebooks/vars/device_config_hook.yml)", "-"))
    out.append(comment_as_rst(header_comment(settings)))
    out.append(list_table(["Setting", "Default", "What"], settings_rows(settings), [25, 20, 55]))
    return "\n".join(out)


# --- the Markdown guides -------------------------------------------------------------------------------


def repository_url(collection):
    galaxy = yaml.safe_load((collection / "galaxy.yml").read_text())
    return galaxy["repository"].rstrip("/")


def guide_sources(collection):
    """{repository path: page name} of the guides: README first, then docs/*.md for users."""
    guides = {"README.md": "readme.md"}
    for path in sorted((collection / "docs").glob("*.md")):
        if path.name not in CHECKOUT_DOCS:
            guides[f"docs/{path.name}"] = path.name
    return guides


def rewrite_links(text, source, guides, collection, dest):
    """Links to other guides stay page links; images are copied; anything else points at the repository."""
    base = posixpath.dirname(source)
    repo = repository_url(collection)

    def replace(match):
        bang, label, target = match.groups()
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith(("#", "//")):
            return match.group(0)
        path, _, anchor = target.partition("#")
        resolved = posixpath.normpath(posixpath.join(base, unquote(path)))
        if resolved in guides:
            new = guides[resolved] + (f"#{anchor}" if anchor else "")
        elif bang or resolved.lower().endswith(IMAGE_SUFFIXES):
            copy = dest / "_files" / resolved
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(collection / resolved, copy)
            new = f"_files/{resolved}"
        else:
            kind = "tree" if (collection / resolved).is_dir() else "blob"
            new = f"{repo}/{kind}/main/{resolved}" + (f"#{anchor}" if anchor else "")
        return f"{bang}[{label}]({new})"

    return plain_fences(MD_LINK.sub(replace, text))


def plain_fences(text):
    """Code fences without a language (or Mermaid's, which Pygments has no lexer for: the README gives the
    same flow as text too) are shown as text, not highlighted as the site's default YAML+Jinja."""
    lines, open_fence = [], None
    for line in text.split("\n"):
        match = re.match(r"^(\s*)(`{3,}|~{3,})(.*)$", line)
        if match and open_fence is None:
            open_fence = match.group(2)
            if match.group(3).strip() in ("", "mermaid"):
                line = f"{match.group(1)}{match.group(2)}text"
        elif match and open_fence and match.group(2).startswith(open_fence) and not match.group(3).strip():
            open_fence = None
        lines.append(line)
    return "\n".join(lines)


# Labels of the Ansible documentation that antsibull-docs' pages refer to. The build is offline, so
# instead of fetching docs.ansible.com's inventory, a small one is written with these (intersphinx then
# makes them links there). A new label in antsibull-docs' output fails the nitpicky build: add it here.
ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
ANSIBLE_LABELS = {
    "ansible_configuration_settings": (
        "reference_appendices/config.html#ansible-configuration-settings",
        "Ansible Configuration Settings",
    ),
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values", "Return Values"),
    "action_plugins": ("plugins/action.html#action-plugins", "Action plugins"),
}


def inventory(path):
    """A Sphinx objects.inv (version 2) of ANSIBLE_LABELS."""
    lines = "".join(f"{label} std:label -1 {uri} {title}\n" for label, (uri, title) in sorted(ANSIBLE_LABELS.items()))
    header = (
        "# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    Path(path).write_bytes(header.encode() + zlib.compress(lines.encode()))


def guides_pages(collection, rst):
    dest = rst / "guides"
    dest.mkdir(parents=True, exist_ok=True)
    guides = guide_sources(collection)
    for source, name in guides.items():
        text = (collection / source).read_text()
        (dest / name).write_text(rewrite_links(text, source, guides, collection, dest))
    entries = "\n".join(f"   {Path(name).stem}" for name in guides.values())
    (dest / "index.rst").write_text(
        f".. _{LABEL}guides:\n\n{heading('Guides', '=', over=True)}\n"
        "The collection's README (install, what Nautobot needs, the hook, settings, security, "
        "troubleshooting) and its guides, as shipped in the collection.\n\n"
        f".. toctree::\n   :maxdepth: 2\n\n{entries}\n"
    )


def pages(collection, rst):
    collection, rst = Path(collection).resolve(), Path(rst)
    eda = rst / "eda"
    eda.mkdir(parents=True, exist_ok=True)
    names = []
    for kind in ("event_source", "event_filter"):
        for path in sorted((collection / "extensions" / "eda" / "plugins" / kind).glob("*.py")):
            (eda / f"{path.stem}.rst").write_text(eda_page(collection, path))
            names.append(path.stem)
    entries = "\n".join(f"   {name}" for name in names)
    (eda / "index.rst").write_text(
        f".. _{LABEL}eda:\n\n{heading('Event-Driven Ansible content', '=', over=True)}\n"
        f"The event sources and the event filter of {COLLECTION}, for ``ansible-rulebook`` and AAP "
        "rulebook activations, and the rulebooks that use them.\n\n"
        f".. toctree::\n   :maxdepth: 1\n\n{entries}\n   ../rulebooks\n"
    )
    (rst / "playbooks.rst").write_text(playbooks_page(collection))
    (rst / "rulebooks.rst").write_text(rulebooks_page(collection))
    guides_pages(collection, rst)
    print(f"[docs] pages: {len(names)} EDA plugin(s), playbooks, rulebooks, {len(guide_sources(collection))} guide(s)")


# --- internal links ------------------------------------------------------------------------------------


class Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") in ("canonical",)):
                self.links.append(attrs[key])


def check_links(html_dir):
    """Every link, image and stylesheet of the site that is not external must reach a file, and its
    #anchor an id there. Returns the broken ones."""
    html_dir = Path(html_dir).resolve()
    parsed = {}

    def load(path):
        if path not in parsed:
            parser = Links()
            parser.feed(path.read_text(errors="replace"))
            parsed[path] = parser
        return parsed[path]

    broken, checked = [], 0
    for page in sorted(html_dir.rglob("*.html")):
        for link in load(page).links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            checked += 1
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_relative_to(html_dir) or not target.exists():
                broken.append(f"{page.relative_to(html_dir)}: {link} (no such file)")
            elif parts.fragment and target.suffix == ".html" and unquote(parts.fragment) not in load(target).ids:
                broken.append(f"{page.relative_to(html_dir)}: {link} (no such anchor)")
    return checked, broken


# --- the browser ---------------------------------------------------------------------------------------


def chromium():
    for name in ("chromium", "chromium-browser"):
        if shutil.which(name):
            return shutil.which(name)
    sys.exit("[docs] no chromium: install Debian's chromium (scripts/setup does, as root)")


def browse(html_dir, out_dir, pages_):
    """Open each page in headless Chromium: a screenshot (PNG) and the DOM it rendered (HTML)."""
    html_dir, out_dir = Path(html_dir).resolve(), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sotsync-chromium-") as profile:
        base = [
            chromium(),
            "--headless",
            "--no-sandbox",  # as root (CI), Chromium refuses to start without it
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--window-size=1280,1400",
        ]
        for page in pages_:
            url = (html_dir / page).as_uri()
            stem = page.replace("/", "__").removesuffix(".html")
            shot = out_dir / f"{stem}.png"
            # the command is Chromium with this site's own file: URLs, nothing from outside
            subprocess.run([*base, f"--screenshot={shot}", url], check=True, capture_output=True, timeout=60)  # noqa: S603
            dump = [*base, "--dump-dom", url]
            dom_dump = subprocess.run(dump, check=True, capture_output=True, text=True, timeout=60)  # noqa: S603
            (out_dir / f"{stem}.html").write_text(dom_dump.stdout)
            print(f"[docs] {page}: {shot} ({shot.stat().st_size} bytes), DOM {len(dom_dump.stdout)} characters")


def main(argv):
    if len(argv) >= 3 and argv[0] == "pages":
        pages(argv[1], argv[2])
    elif len(argv) == 2 and argv[0] == "inventory":
        inventory(argv[1])
    elif len(argv) == 2 and argv[0] == "check-links":
        checked, broken = check_links(argv[1])
        for line in broken:
            print(f"[docs] BROKEN {line}")
        print(f"[docs] internal links: {checked} checked, {len(broken)} broken")
        return 1 if broken else 0
    elif len(argv) >= 4 and argv[0] == "browse":
        browse(argv[1], argv[2], argv[3:])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
