"""The named presets, shipped as spec files, and the one way to open a store by name or file.

Each preset is ``scenes/data/stores/<name>.toml``, written by ``scenes.generate`` from
``PRESET_PARAMS``: ``python -c "import scenes.presets as p; p.main()"`` rewrites them, and a
test checks they match the generator, so a change to either is deliberate. Planners copy and
edit them.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from scenes.generate import PRESET_PARAMS, generate_spec, spec_header
from scenes.spec import load_spec, parse_spec
from scenes.store import Store
from scenes.tomlw import dumps

PRESETS: tuple[str, ...] = tuple(PRESET_PARAMS)


class UnknownPresetError(ValueError):
    pass


def preset_text(name: str) -> str:
    """The shipped spec text of a preset."""
    if name not in PRESETS:
        raise UnknownPresetError(
            f"unknown store preset {name!r}; allowed: {', '.join(PRESETS)} or a .toml spec file")
    return resources.files("scenes").joinpath(f"data/stores/{name}.toml").read_text()


def load_preset(name: str) -> Store:
    """Build a named preset store from its shipped spec."""
    return parse_spec(preset_text(name), f"scenes/data/stores/{name}.toml")


def load_store(ref: str | Path) -> Store:
    """A preset name (``kiosk``) or a path to a spec file (``my-store.toml``)."""
    s = str(ref)
    if s in PRESETS:
        return load_preset(s)
    if s.endswith(".toml") or Path(s).exists():
        return load_spec(s)
    raise UnknownPresetError(
        f"unknown store {s!r}; allowed: a preset ({', '.join(PRESETS)}) or a .toml spec file")


def render_preset(name: str) -> str:
    """The spec text the generator makes for a preset today."""
    p = PRESET_PARAMS[name]
    return dumps(generate_spec(p), spec_header(p))


def main() -> None:  # pragma: no cover - a maintainer's tool
    out = Path(__file__).parent / "data" / "stores"
    out.mkdir(parents=True, exist_ok=True)
    for name in PRESETS:
        (out / f"{name}.toml").write_text(render_preset(name))


if __name__ == "__main__":  # pragma: no cover
    main()
