"""Bibliography labels that stay unique across chapters: author + year + the entry's `suffix` field.

Pybtex's alpha style labels both 2026 papers by Xu "Xu26" in every chapter that cites one of them,
and sphinxcontrib-bibtex then warns of a duplicate label. Here each entry may carry `suffix = {a}`,
giving "Xu26a", the same label on every page.
"""
from pybtex.plugin import register_plugin
from pybtex.style.formatting.alpha import Style as Alpha
from pybtex.style.labels.alpha import LabelStyle as AlphaLabels


class SuffixLabels(AlphaLabels):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield self.format_label(entry) + entry.fields.get("suffix", "")


class GrokbookStyle(Alpha):
    default_label_style = SuffixLabels


def setup(app):
    register_plugin("pybtex.style.formatting", "grokbook", GrokbookStyle)
    return {"parallel_read_safe": True}
