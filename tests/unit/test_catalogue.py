"""The catalogue loads into validated records and refuses inconsistent entries."""

from __future__ import annotations

import re

import pytest

from kmu_pipeline.catalogue import CatalogueError, load_catalogue, parse_catalogue
from kmu_pipeline.sources.eurostat import data_request

HEAD = """
[sources.eurostat]
base_url = "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1"
base_url_env = "KMU_TEST_EUROSTAT_URL"
scope = "eu"
dimensions = ["freq", "size_emp", "nace_r2", "indic_is", "unit", "geo"]
[maps.sizes]
"10-49" = "10-49"
GE250 = "250+"
"""
ENTRY = """
[[datasets]]
name = "{name}"
source = "eurostat"
code = "isoc_cicce_use"
indicators = {{ E_CC = "cloud_computing" }}
units = {{ PC_ENT = "pct_enterprises" }}
size_map = "{size_map}"
filters = {{ freq = "A", nace_r2 = "C10-S951_X_K" }}
start_period = 2014
"""


def test_adding_a_dataset_is_one_entry_and_builds_its_query():
    cat = parse_catalogue(HEAD + ENTRY.format(name="cloud", size_map="sizes"))
    ds = cat.dataset("cloud")
    assert ds.table == "raw.eurostat__cloud"
    request = data_request(ds, cat.sources["eurostat"])
    assert request.path == "data/isoc_cicce_use/A.10-49+GE250.C10-S951_X_K.E_CC.PC_ENT."
    assert dict(request.query) == {"startPeriod": "2014", "format": "SDMX-CSV"}


def test_release_rhythm_is_the_sources_freshness():
    catalogue = load_catalogue()
    assert catalogue.sources["eurostat"].freshness == (62, 400)
    assert catalogue.sources["desi"].freshness is None  # a closed edition
    with_window = HEAD.replace("[maps.sizes]", "freshness = { warn_days = 30, fail_days = 90 }\n"
                                               "[maps.sizes]")
    assert parse_catalogue(with_window).sources["eurostat"].freshness == (30, 90)


def test_each_source_states_the_scope_of_its_figures():
    assert {name: s.scope for name, s in load_catalogue().sources.items()} == {
        "eurostat": "eu", "genesis": "national", "desi": "eu"}


def test_base_url_comes_from_the_environment(monkeypatch):
    cat = parse_catalogue(HEAD + ENTRY.format(name="cloud", size_map="sizes"))
    monkeypatch.setenv("KMU_TEST_EUROSTAT_URL", "http://127.0.0.1:1/eurostat")
    assert cat.sources["eurostat"].resolved_base_url() == "http://127.0.0.1:1/eurostat"


@pytest.mark.parametrize("text, message", [
    (HEAD + ENTRY.format(name="cloud", size_map="nope"), "size_map 'nope'"),
    (HEAD + ENTRY.format(name="Bad Name", size_map="sizes"), "name must match"),
    (HEAD + ENTRY.format(name="a", size_map="sizes") * 2, "duplicate dataset names"),
    (HEAD.replace('"250+"', '"250-999"') + ENTRY.format(name="a", size_map="sizes"),
     "size classes ['250-999']"),
    # a misspelt key is refused, never a silent default (it used to fall into an options bag)
    (HEAD + ENTRY.format(name="a", size_map="sizes") + 'size_clas = "0+"\n',
     "catalogue entry 'a': unknown keys ['size_clas']"),
    (HEAD.replace("dimensions =", "dimension =") + ENTRY.format(name="a", size_map="sizes"),
     "catalogue source 'eurostat': unknown keys ['dimension']"),
    (HEAD + ENTRY.format(name="a", size_map="sizes") + 'size_class = "0-999"\n',
     "size_class '0-999' is not in"),
    (HEAD.replace("[maps.sizes]", "freshness = { warn_days = 62, fail_dayz = 400 }\n[maps.sizes]")
     + ENTRY.format(name="a", size_map="sizes"),
     "catalogue source 'eurostat' freshness: unknown keys ['fail_dayz']"),
    (HEAD.replace("[maps.sizes]", "freshness = { warn_days = 400, fail_days = 62 }\n[maps.sizes]")
     + ENTRY.format(name="a", size_map="sizes"),
     "warn_days (400) must be positive and below fail_days (62)"),
    # the models select sources by scope: a wrong or missing one would drop its rows silently
    (HEAD.replace('scope = "eu"', 'scope = "europe"') + ENTRY.format(name="a", size_map="sizes"),
     "catalogue source 'eurostat': scope 'europe' is not one of ('eu', 'national')"),
    (HEAD.replace('scope = "eu"\n', "") + ENTRY.format(name="a", size_map="sizes"),
     "catalogue source 'eurostat': no scope; it takes one of ('eu', 'national')"),
])
def test_inconsistent_entries_are_refused(text, message):
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_catalogue(text)


def test_project_catalogue_covers_the_articles_indicators():
    names = {v for ds in load_catalogue().datasets for v in ds.indicators.values()}
    assert {"website", "internet_access", "fixed_broadband", "broadband_speed_sufficient",
            "employees_internet_access", "cloud_computing", "big_data", "3d_printing",
            "ecommerce_sales", "ict_specialists_employed", "ict_recruitment_tried",
            "ict_vacancies_hard_to_fill", "ict_training"} <= names


def test_every_raw_table_is_an_entry_with_its_model():
    catalogue = load_catalogue()
    models = {ds.table: ds.model for ds in catalogue.datasets}
    assert models["raw.eurostat__codelists"] == "labels"
    assert models["raw.desi__desi"] == "desi"
    assert models["raw.eurostat__isoc_cicce_use"] == "observations"
    assert catalogue.dataset("codelists").codelists == ("GEO", "SIZE_EMP", "INDIC_IS", "UNIT")
