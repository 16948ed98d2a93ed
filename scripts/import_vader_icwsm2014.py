"""Rebuild ``data/sentiment/vader_icwsm2014/`` from the vaderSentiment 3.3.2 source distribution.

Usage: ``python -m scripts.import_vader_icwsm2014 PATH/vaderSentiment-3.3.2.tar.gz``
(``pip download --no-deps --no-binary :all: vaderSentiment==3.3.2``). Reads the four
``*_GroundTruth.txt`` files of ``additional_resources/hutto_ICWSM_2014.tar.gz`` (UTF-8, CRLF,
``id<TAB>mean rating<TAB>text``) and writes them unchanged as UTF-8 / LF TSV files with a header
line, plus the package's MIT licence.
"""
from __future__ import annotations

import io
import sys
import tarfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "data" / "sentiment" / "vader_icwsm2014"
SOURCES = {
    "tweets": "tweets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
    "movies": "movieReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
}


def main(sdist: str) -> None:
    with tarfile.open(sdist) as outer:
        inner_member = next(m for m in outer.getmembers() if m.name.endswith("hutto_ICWSM_2014.tar.gz"))
        licence = next(m for m in outer.getmembers() if m.name.endswith("LICENSE.txt"))
        (OUT / "LICENSE").write_bytes(outer.extractfile(licence).read().replace(b"\r\n", b"\n"))
        inner = tarfile.open(fileobj=io.BytesIO(outer.extractfile(inner_member).read()))
        for name, source in SOURCES.items():
            member = next(m for m in inner.getmembers() if m.name.endswith(source))
            text = inner.extractfile(member).read().decode("utf-8")
            rows = [line for line in text.split("\r\n") if line]
            assert all(line.count("\t") == 2 for line in rows), source
            (OUT / f"{name}.tsv").write_text("id\tmean_rating\ttext\n" + "\n".join(rows) + "\n", encoding="utf-8")
            print(name, len(rows))


if __name__ == "__main__":
    main(sys.argv[1])
