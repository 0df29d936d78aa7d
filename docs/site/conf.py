# Sphinx configuration of the collection's docs site (scripts/docs; not part of the built collection).
# antsibull-docs' own site template (antsibull-docs sphinx-init) with two changes: intersphinx reads a
# small inventory of the Ansible docs' labels written by scripts/docsite.py (the build runs offline:
# nothing is fetched), and MyST renders the Markdown guides (README.md, docs/*.md).
# Nitpicky and run with -W: an unresolved reference fails the build.

project = "sotsync.nautobot"
copyright = "sotsync team, GNU General Public License v3.0 or later"  # noqa: A001 (Sphinx's name)
title = "sotsync.nautobot"
html_short_title = "sotsync.nautobot"
html_title = "sotsync.nautobot collection documentation"

extensions = ["sphinx.ext.intersphinx", "sphinx_antsibull_ext", "myst_parser"]
intersphinx_mapping = {
    "ansible_devel": ("https://docs.ansible.com/projects/ansible/devel/", "../ansible_devel.inv"),
}
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}

pygments_style = "ansible"
highlight_language = "YAML+Jinja"

html_theme = "sphinx_ansible_theme"
html_show_sphinx = False
html_use_smartypants = True
html_use_modindex = False
html_use_index = False
html_copy_source = False
html_theme_options = {
    "display_version": False,
    # the logo's link: the theme's default is the web server's root, which a local copy does not have
    "documentation_home_url": "https://github.com/sotsync/nautobot-collection",
    "show_rtd_ethical_ads": False,  # nothing loaded from elsewhere
}

default_role = "any"
nitpicky = True

# The guides' headings become anchors the way GitHub makes them, so their #links work here too.
myst_heading_anchors = 4
myst_enable_extensions = ["colon_fence"]
