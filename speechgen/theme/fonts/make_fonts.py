"""How the bundled print fonts were made (run by hand, never by a build).

    apt-get download fonts-noto-core && dpkg-deb -x fonts-noto-core_*.deb noto
    python3 speechgen/theme/fonts/make_fonts.py noto/usr/share/fonts/truetype/noto

Needs fontTools (`pip install fonttools`, which WeasyPrint already depends on). The sources are
Noto 20201225 from Debian (SIL Open Font License 1.1, no Reserved Font Name): Noto Serif 2.004,
Noto Sans Math 2.001, Noto Sans Symbols 2.001 and Noto Sans Symbols2 2.003.

- NotoSerif-*.ttf: every character of Noto Serif (all of Latin, Greek and Cyrillic, IPA,
  punctuation, currency, letterlike symbols), without hinting instructions, which a PDF does not
  use: about 60 % of the Debian files' size.
- SpeechgenSymbols-Regular.ttf: arrows, mathematical operators and the common technical and
  geometric symbols, check marks, stars and dingbats, from the three Noto symbol fonts merged
  into one face (the first font that has a character gives it), and the spaces: Pango draws a
  space between two symbols with the symbols' font, which must therefore have it.
- NotoNaskhArabic-Regular.ttf, NotoNaskhArabic-Bold.ttf: copied as they are from the same
  package (Noto Naskh Arabic 2.004); this script does not touch them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERIF = ("Regular", "Italic", "Bold", "BoldItalic")
COMMON = ["--layout-features=*", "--name-IDs=*", "--name-languages=*", "--notdef-outline",
          "--no-hinting", "--desubroutinize", "--drop-tables+=MATH"]
# (source file, code points taken from it), in order of preference
SYMBOLS = (
    ("NotoSansMath-Regular.ttf",
     "U+0020,U+00A0,U+2000-200A,U+202F,U+205F,U+2190-21FF,U+2200-22FF,U+2300-230F,U+2318,U+27C0-27EF,U+27F0-27FF,U+2900-297F,U+2A00-2AFF"),
    ("NotoSansSymbols2-Regular.ttf", "U+2190-21FF,U+25A0-25FF,U+2600-26FF,U+2700-27BF,U+2B00-2BFF"),
    ("NotoSansSymbols-Regular.ttf", "U+2150-218F,U+2190-21FF,U+2300-23FF,U+2460-24FF"),
)


def main(source: Path) -> None:
    from fontTools.merge import Merger
    from fontTools.ttLib import TTFont

    for style in SERIF:
        subprocess.run(["pyftsubset", str(source / f"NotoSerif-{style}.ttf"), "--unicodes=*", *COMMON,
                        f"--output-file={HERE / f'NotoSerif-{style}.ttf'}"], check=True)
    with tempfile.TemporaryDirectory() as scratch:
        parts = []
        for n, (name, unicodes) in enumerate(SYMBOLS):
            part = Path(scratch) / f"{n}.ttf"
            subprocess.run(["pyftsubset", str(source / name), f"--unicodes={unicodes}", *COMMON,
                            f"--output-file={part}"], check=True)
            parts.append(str(part))
        font = Merger().merge(parts)
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6, 16, 17, 21, 22):
            names.removeNames(nameID=record.nameID)
    for name_id, text in ((1, "Speechgen Symbols"), (4, "Speechgen Symbols Regular"),
                          (6, "SpeechgenSymbols-Regular"), (3, "speechgen;SpeechgenSymbols-Regular"),
                          (0, "Copyright 2016-2018 Google LLC, 2017 Google Inc. (Noto Sans Math, "
                              "Noto Sans Symbols, Noto Sans Symbols2)."),
                          (5, "Version 2.001 (Noto symbol fonts, subset and merged for speechgen)")):
        names.setName(text, name_id, 3, 1, 0x409)
        names.setName(text, name_id, 1, 0, 0)
    font.save(str(HERE / "SpeechgenSymbols-Regular.ttf"))
    with TTFont(HERE / "SpeechgenSymbols-Regular.ttf") as check:
        print(f"SpeechgenSymbols-Regular.ttf: {len(check.getBestCmap())} characters")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
