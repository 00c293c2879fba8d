"""The README a newcomer follows: links only to files in the repository, venv-first commands, yuan."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_links_only_to_files_in_the_repository():
    links = re.findall(r"\]\(([^)#]+)\)", README)
    local = [link for link in links if not link.startswith(("http://", "https://", "mailto:"))]
    assert local, "the README links to the architecture notes"
    for link in local:
        target = (ROOT / link).resolve()
        assert target.is_relative_to(ROOT), f"{link} points outside the repository"
        assert target.exists(), f"{link} does not exist"


def test_quick_start_and_test_command_use_a_virtual_environment():
    commands = re.findall(r"```bash\n(.*?)\n```", README, re.S)
    assert commands[0] == "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && jinshang demo"
    assert "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && pytest" in commands[1]
    assert "PUBLIC_BASE_URL" in README


def test_architecture_notes_stand_on_their_own():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert "../shared" not in text
    for heading in ("## Layout", "## Layer rules", "## Conventions"):
        assert heading in text
