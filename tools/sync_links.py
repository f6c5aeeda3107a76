"""The repository URL lives in one place, `_config.yml` (`repository.url`, `repository.branch`); the
chapters' "Open in Colab" badges and Colab install cells are generated from it.

    python tools/sync_links.py           # rewrite the badges and install cells from _config.yml
    python tools/sync_links.py --check   # exit 1 listing every place that disagrees (tests run this)

A fork sets its own URL in `_config.yml` and runs the first command. The book's pages (book/*.md,
README.md) are checked, not rewritten: every Colab or pip-from-GitHub link in them must name the
configured repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
COLAB = "https://colab.research.google.com"
_BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)")
_INSTALL = re.compile(r"%pip install -q git\+\S+")
_LINKS = re.compile(
    r"colab\.research\.google\.com/github/[\w.-]+/[\w.-]+/blob/[\w.-]+/|git\+https://github\.com/\S+"
    r"|(?<=\]\()https://github\.com/[\w.-]+/grokkit(?=\))"  # a markdown link to the library's repository
)


@dataclass(frozen=True)
class Repository:
    url: str  # https://github.com/<owner>/<name>
    branch: str

    @property
    def slug(self) -> str:
        return self.url.removeprefix("https://github.com/").rstrip("/")

    def colab(self, notebook: str) -> str:
        return f"{COLAB}/github/{self.slug}/blob/{self.branch}/notebooks/{notebook}"

    def badge(self, notebook: str) -> str:
        return f"[![Open In Colab]({COLAB}/assets/colab-badge.svg)]({self.colab(notebook)})"

    @property
    def site(self) -> str:
        """The GitHub Pages address of the repository's book (where its published runs are, grokkit.store.published)."""
        owner, name = self.slug.split("/")
        return f"https://{owner.lower()}.github.io/{name}/"

    def install(self) -> str:
        """The Colab install cell's command: grokkit from the repository, Colab's own torch kept."""
        return f"%pip install -q git+{self.url}@{self.branch}"


def repository(root: Path = ROOT) -> Repository:
    cfg = yaml.safe_load((Path(root) / "_config.yml").read_text())["repository"]
    url = str(cfg["url"]).rstrip("/")
    if not re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url):
        raise ValueError(f"_config.yml: repository.url must be https://github.com/<owner>/<name>, got {url!r}")
    return Repository(url, str(cfg.get("branch", "main")))


def _notebook_cells(nb_path: Path, repo: Repository):
    """(cell index, current source, source with generated links) of the two generated cells."""
    nb = json.loads(nb_path.read_text())
    first = "".join(nb["cells"][0]["source"])
    code = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code")
    install = "".join(nb["cells"][code]["source"])
    return nb, [
        (0, first, _BADGE.sub(lambda _: repo.badge(nb_path.name), first)),
        (code, install, _INSTALL.sub(lambda _: repo.install(), install)),
    ]


def problems(root: Path = ROOT) -> list[str]:
    """Every place whose links disagree with _config.yml (empty: all agree)."""
    root, repo, found = Path(root), repository(root), []
    for nb_path in sorted((root / "notebooks").glob("*.ipynb")):
        _, cells = _notebook_cells(nb_path, repo)
        (_, badge, _), (_, install, _) = cells
        if repo.badge(nb_path.name) not in badge:
            found.append(f"{nb_path.name}: first cell lacks the badge {repo.badge(nb_path.name)}")
        if repo.install() not in install or "google.colab" not in install:
            found.append(f"{nb_path.name}: first code cell lacks the Colab-only `{repo.install()}`")
    wanted = (f"colab.research.google.com/github/{repo.slug}/blob/{repo.branch}/", f"git+{repo.url}@{repo.branch}")
    wanted += (repo.url,)
    for page in [root / "README.md", *sorted((root / "book").glob("*.md"))]:
        for m in _LINKS.finditer(page.read_text()):
            if not m.group(0).startswith(wanted):
                found.append(f"{page.relative_to(root)}: {m.group(0)} is not the configured repository {repo.url}")
    published = (root / "grokkit" / "store" / "published.py").read_text()
    if f'SITE_URL = "{repo.site}"' not in published:
        found.append(f"grokkit/store/published.py: SITE_URL is not {repo.site} (the Pages site of {repo.url})")
    return found


def write(root: Path = ROOT) -> list[str]:
    """Regenerate the badges, install cells and the published runs' site (grokkit/store/published.py SITE_URL);
    returns the files changed."""
    repo, changed = repository(root), []
    for nb_path in sorted((Path(root) / "notebooks").glob("*.ipynb")):
        nb, cells = _notebook_cells(nb_path, repo)
        if all(old == new for _, old, new in cells):
            continue
        for i, _, new in cells:
            nb["cells"][i]["source"] = new.splitlines(keepends=True)
        nb_path.write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
        changed.append(nb_path.name)
    published = Path(root) / "grokkit" / "store" / "published.py"
    text = published.read_text()
    new_text = re.sub(r'^SITE_URL = "[^"]*"', f'SITE_URL = "{repo.site}"', text, count=1, flags=re.M)
    if new_text != text:
        published.write_text(new_text)
        changed.append("grokkit/store/published.py")
    return changed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="report disagreements instead of rewriting")
    args = ap.parse_args(argv)
    if args.check:
        found = problems()
        print("\n".join(found) or f"links agree with _config.yml ({repository().url})")
        return 1 if found else 0
    changed = write()
    print(f"regenerated: {', '.join(changed)}" if changed else "notebooks already agree with _config.yml")
    return 0


if __name__ == "__main__":
    sys.exit(main())
