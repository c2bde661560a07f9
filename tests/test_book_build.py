"""The book builds with no warnings (-W -n) and every chapter of _toc.yml produces a page."""

import re

import pytest

pytestmark = pytest.mark.build


def toc_files(root):
    return re.findall(r"(?:file|root):\s*(\S+)", (root / "_toc.yml").read_text())


def test_build_has_no_warnings(built_book):
    assert built_book.returncode == 0, built_book.log[-4000:]
    warnings = [line for line in built_book.log.splitlines() if "WARNING" in line or "ERROR" in line]
    assert not warnings, "\n".join(warnings[:20])


def test_every_toc_entry_has_a_page(built_book, project_root):
    html = project_root / "_build" / "html"
    missing = [f for f in toc_files(project_root) if not (html / f"{f}.html").is_file()]
    assert not missing, f"no page built for {missing}"


def test_math_is_served_locally(built_book, project_root):
    html = project_root / "_build" / "html"
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    page = (html / "book" / "01-jacobians.html").read_text()
    assert "mathjax/tex-chtml.js" in page and "cdn.jsdelivr" not in page


def test_the_book_stylesheet_is_included_and_no_script_of_ours(built_book, project_root):
    """book/_static/ntkbook.css (equations and checks scroll inside their own box on a phone) is on every page;
    book/_static holds no .js (Jupyter Book would inject every one into every page)."""
    html = project_root / "_build" / "html"
    assert (html / "_static" / "ntkbook.css").is_file()
    assert "_static/ntkbook.css" in (html / "book" / "01-jacobians.html").read_text()
    assert not list((project_root / "book" / "_static").rglob("*.js"))


def test_thebe_configuration_is_included_once(built_book, project_root):
    page = (project_root / "_build" / "html" / "book" / "intro.html").read_text()
    assert page.count("const THEBE_JS_URL") <= 1


# --------------------------------------------------------------------------- launch and download links


def repository_config(root):
    import yaml

    cfg = yaml.safe_load((root / "_config.yml").read_text())
    return cfg["repository"], cfg["launch_buttons"]


def repository_path(href: str, root) -> str | None:
    """The path inside the repository that a launch link (Binder, Colab) opens, or None for another link."""
    import urllib.parse

    repo, launch = repository_config(root)
    org_repo = urllib.parse.urlsplit(repo["url"]).path.strip("/")
    branch = repo["branch"]
    url = urllib.parse.urlsplit(href)
    binder = urllib.parse.urlsplit(launch["binderhub_url"])
    colab = urllib.parse.urlsplit(launch["colab_url"])
    if url.netloc == binder.netloc:
        assert url.path == f"/v2/gh/{org_repo}/{branch}", f"Binder link to another repository or branch: {href}"
        urlpath = urllib.parse.parse_qs(url.query)["urlpath"][0]
        assert urlpath.startswith("lab/tree/"), f"Binder link does not open JupyterLab: {href}"
        return urlpath.removeprefix("lab/tree/")
    if url.netloc == colab.netloc:
        prefix = f"/github/{org_repo}/blob/{branch}/"
        assert url.path.startswith(prefix), f"Colab link to another repository or branch: {href}"
        return url.path.removeprefix(prefix)
    return None


def page_buttons(html_file):
    """(launch hrefs, download hrefs) of one built page: the links of its two header dropdowns."""
    text = html_file.read_text()

    def hrefs(kind):
        menu = re.search(rf'<div class="dropdown dropdown-{kind}-buttons">(.*?)</ul>', text, flags=re.S)
        return re.findall(r'<a href="([^"]+)"', menu.group(1)) if menu else []

    return hrefs("launch"), hrefs("download")


def test_launch_and_download_links_open_files_of_the_repository(built_book, project_root):
    """Binder and Colab open <repository>/<path> and the download button serves _sources/<path>: each path
    must be the page's own source file in the repository (a wrong `path_to_book` gives book/book/...)."""
    html = project_root / "_build" / "html"
    problems, launched = [], 0
    for page in toc_files(project_root):
        sources = [s for s in (project_root / f"{page}.ipynb", project_root / f"{page}.md") if s.is_file()]
        assert sources, f"no source for {page}"
        source = sources[0].relative_to(project_root).as_posix()
        launch, download = page_buttons(html / f"{page}.html")
        if source.endswith(".ipynb"):
            kinds = {"Binder": 0, "Colab": 0}
            for href in launch:
                path = repository_path(href, project_root)
                kinds["Binder" if "binder" in href else "Colab"] += path is not None
                if path != source:
                    problems.append(f"{page}: launch link opens {path!r}, not {source!r}: {href}")
                elif not (project_root / path).is_file():
                    problems.append(f"{page}: launch link opens a file that does not exist: {href}")
            if kinds != {"Binder": 1, "Colab": 1}:
                problems.append(f"{page}: expected one Binder and one Colab link, got {launch}")
            launched += 1
        for href in download:
            served = (html / page).parent / href
            if served.resolve() != (html / "_sources" / source).resolve():
                problems.append(f"{page}: download link {href} is not the page's source {source}")
            elif served.read_bytes() != (project_root / source).read_bytes():
                problems.append(f"{page}: downloaded {href} differs from {source}")
        if not download:
            problems.append(f"{page}: no download link")
    assert not problems, "\n".join(problems)
    assert launched >= 12, f"only {launched} chapters have launch buttons"
