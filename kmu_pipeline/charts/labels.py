"""The German words the charts print: country names, size classes, the base of each unit.

The article (../shared/seed, Abb. 1) names countries in German, as its readers expect; these are
its spellings (Großbritannien, Tschechien, Europäische Union).
"""

from __future__ import annotations

COUNTRY_NAMES = {
    "AT": "Österreich", "BE": "Belgien", "BG": "Bulgarien", "CY": "Zypern", "CZ": "Tschechien",
    "DE": "Deutschland", "DK": "Dänemark", "EE": "Estland", "EL": "Griechenland",
    "ES": "Spanien", "FI": "Finnland", "FR": "Frankreich", "HR": "Kroatien", "HU": "Ungarn",
    "IE": "Irland", "IT": "Italien", "LT": "Litauen", "LU": "Luxemburg", "LV": "Lettland",
    "MT": "Malta", "NL": "Niederlande", "PL": "Polen", "PT": "Portugal", "RO": "Rumänien",
    "SE": "Schweden", "SI": "Slowenien", "SK": "Slowakei", "UK": "Großbritannien",
    # DESI writes the EU28 aggregate as EU; Eurostat the EU since 2020 as EU27_2020
    "EU": "Europäische Union", "EU27_2020": "EU-27",
}

# the size classes of Abb. 2 and 3, in the article's order
SIZE_ORDER = ("0-9", "10-49", "50-249", "0-249")
SIZE_LABELS = {"0-9": "0-9", "10-49": "10-49", "50-249": "50-249", "0-249": "KMU gesamt (0-249)"}

# What a share is a share of. The figures' axis says "% der Unternehmen"; any other base is
# footnoted at its label, so a reader never compares shares of different things unawares.
UNIT_BASES = {
    "pct_enterprises": "in % der Unternehmen",
    "pct_employed": "in % der Beschäftigten",
    "pct_recruiting_enterprises": "in % der Unternehmen, die IT-Fachkräfte eingestellt haben "
                                  "oder einstellen wollten",
}

INDICATOR_NAMES = {"cloud_computing": "Cloud-Computing", "ai_any": "Künstliche Intelligenz"}

# A cell the warehouse has no number for but the article describes in words (Destatis publishes
# no share of micro firms using cloud computing for 2020; the article's text says "knapp ein
# Viertel", line 405 of the seed). Shown only while the warehouse has no value for the cell.
ARTICLE_WORDS = {("abb2", "cloud_computing", "0-9"): "knapp ein Viertel"}


def country(geo: str) -> str:
    """German name of a Eurostat/DESI country code; the code itself when it has none."""
    return COUNTRY_NAMES.get(geo, geo)
