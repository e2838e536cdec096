"""Eurostat's structure answer for a flow, in the layout Eurostat sends for
`dataflow/ESTAT/{flow}/latest?references=descendants&detail=referencepartial`.

The layout (element order, namespaces, URNs, annotations, `isPartial` codelists, the DSD's
DimensionList with positions, the TimeDimension, the OBS_FLAG attribute and the OBS_VALUE
measure) is that of the real answer for GOV_10Q_GGNFA kept in
../shared/reference/sdmx-samples/khaeru-sdmx-test-data_ESTAT/GOV_10Q_GGNFA.xml. The codes are the
caller's: for the demo, the codes seen in the downloads cited in README.md.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

M = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/message"
S = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure"
C = "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"
URN = "urn:sdmx:org.sdmx.infomodel"
# dimension -> (codelist id, English name of the concept)
CONCEPTS = {
    "freq": ("FREQ", "Time frequency"),
    "size_emp": ("SIZE_EMP", "Size classes in number of persons employed"),
    "nace_r2": ("NACE_R2", "Statistical classification of economic activities in the "
                           "European Community (NACE Rev. 2)"),
    "indic_is": ("INDIC_IS", "Information society indicator"),
    "unit": ("UNIT", "Unit of measure"),
    "geo": ("GEO", "Geopolitical entity (reporting)"),
}


def _codelist(cl_id: str, name: str, codes: Sequence[tuple[str, str]]) -> str:
    items = "".join(
        f'<s:Code id={quoteattr(code)} urn="{URN}.codelist.Code=ESTAT:{cl_id}(1.0).{escape(code)}">'
        f'<c:Name xml:lang="en">{escape(label)}</c:Name></s:Code>'
        for code, label in codes)
    return (f'<s:Codelist agencyID="ESTAT" id="{cl_id}" isFinal="true" '
            f'urn="{URN}.codelist.Codelist=ESTAT:{cl_id}(1.0)" version="1.0" isPartial="true">'
            f'<c:Name xml:lang="en">{escape(name)}</c:Name>{items}</s:Codelist>')


def _dimension(flow: str, dim: str, position: int) -> str:
    cl_id = CONCEPTS[dim][0]
    return (f'<s:Dimension id="{dim}" position="{position}" '
            f'urn="{URN}.datastructure.Dimension=ESTAT:{flow}(1.0).{dim}">'
            f'<s:ConceptIdentity><Ref agencyID="ESTAT" class="Concept" id="{dim}" '
            f'maintainableParentID="{flow}" maintainableParentVersion="1.0" '
            f'package="conceptscheme"/></s:ConceptIdentity>'
            f'<s:LocalRepresentation><s:Enumeration><Ref agencyID="ESTAT" class="Codelist" '
            f'id="{cl_id}" package="codelist" version="1.0"/></s:Enumeration>'
            f'</s:LocalRepresentation></s:Dimension>')


def _concept(flow: str, concept: str, name: str) -> str:
    return (f'<s:Concept id="{concept}" '
            f'urn="{URN}.conceptscheme.Concept=ESTAT:{flow}(1.0).{concept}">'
            f'<c:Name xml:lang="en">{escape(name)}</c:Name></s:Concept>')


def _annotation(kind: str, title: str) -> str:
    return (f"<c:Annotation><c:AnnotationTitle>{escape(title)}</c:AnnotationTitle>"
            f"<c:AnnotationType>{kind}</c:AnnotationType></c:Annotation>")


def flow_structure_xml(flow: str, title: str, codes: Mapping[str, Sequence[tuple[str, str]]],
                       annotations: Mapping[str, str], prepared: str) -> bytes:
    """The structure message of `flow` (upper case, as Eurostat names it) with `codes` per
    dimension (code, English label), in the key order of `codes`."""
    dims = list(codes)
    time_position = len(dims) + 1
    dataflow = (
        f'<s:Dataflow id="{flow}" urn="{URN}.datastructure.Dataflow=ESTAT:{flow}(1.0)" '
        f'agencyID="ESTAT" version="1.0" isFinal="false"><c:Annotations>'
        + "".join(_annotation(k, v) for k, v in annotations.items())
        + f'</c:Annotations><c:Name xml:lang="en">{escape(title)}</c:Name><s:Structure>'
        f'<Ref id="{flow}" version="1.0" agencyID="ESTAT" package="datastructure" '
        f'class="DataStructure"/></s:Structure></s:Dataflow>')
    codelists = "".join(_codelist(CONCEPTS[d][0], CONCEPTS[d][1], codes[d]) for d in dims)
    concepts = (
        f'<s:ConceptScheme agencyID="ESTAT" id="{flow}" isFinal="true" '
        f'urn="{URN}.conceptscheme.ConceptScheme=ESTAT:{flow}(1.0)" version="1.0" '
        f'isPartial="false"><c:Name xml:lang="en">List of concepts for dataset '
        f"'{flow}'</c:Name>"
        + "".join(_concept(flow, d, CONCEPTS[d][1]) for d in dims)
        + _concept(flow, "TIME_PERIOD", "Time") + _concept(flow, "OBS_FLAG",
                                                            "Observation status (Flag)")
        + _concept(flow, "OBS_VALUE", "Observation value") + "</s:ConceptScheme>")
    concept_ref = (f'<s:ConceptIdentity><Ref agencyID="ESTAT" class="Concept" id="{{}}" '
                   f'maintainableParentID="{flow}" maintainableParentVersion="1.0" '
                   f'package="conceptscheme"/></s:ConceptIdentity>')
    dsd = (
        f'<s:DataStructure agencyID="ESTAT" id="{flow}" isFinal="true" '
        f'urn="{URN}.datastructure.DataStructure=ESTAT:{flow}(1.0)" version="1.0">'
        f'<c:Name xml:lang="en">{flow} data structure</c:Name><s:DataStructureComponents>'
        f'<s:DimensionList id="DimensionDescriptor" '
        f'urn="{URN}.datastructure.DimensionDescriptor=ESTAT:{flow}(1.0).DimensionDescriptor">'
        + "".join(_dimension(flow, d, n) for n, d in enumerate(dims, start=1))
        + f'<s:TimeDimension id="TIME_PERIOD" position="{time_position}" '
        f'urn="{URN}.datastructure.TimeDimension=ESTAT:{flow}(1.0).TIME_PERIOD">'
        + concept_ref.format("TIME_PERIOD")
        + '<s:LocalRepresentation><s:TextFormat textType="ObservationalTimePeriod"/>'
        '</s:LocalRepresentation></s:TimeDimension></s:DimensionList>'
        f'<s:AttributeList id="AttributeDescriptor" '
        f'urn="{URN}.datastructure.AttributeDescriptor=ESTAT:{flow}(1.0).AttributeDescriptor">'
        f'<s:Attribute assignmentStatus="Conditional" id="OBS_FLAG" '
        f'urn="{URN}.datastructure.DataAttribute=ESTAT:{flow}(1.0).OBS_FLAG">'
        + concept_ref.format("OBS_FLAG")
        + '<s:AttributeRelationship><s:PrimaryMeasure><Ref id="OBS_VALUE"/></s:PrimaryMeasure>'
        '</s:AttributeRelationship></s:Attribute></s:AttributeList>'
        f'<s:MeasureList id="MeasureDescriptor" '
        f'urn="{URN}.datastructure.MeasureDescriptor=ESTAT:{flow}(1.0).MeasureDescriptor">'
        f'<s:PrimaryMeasure id="OBS_VALUE" '
        f'urn="{URN}.datastructure.PrimaryMeasure=ESTAT:{flow}(1.0).OBS_VALUE">'
        + concept_ref.format("OBS_VALUE")
        + '<s:LocalRepresentation><s:TextFormat textType="Double"/></s:LocalRepresentation>'
        '</s:PrimaryMeasure></s:MeasureList></s:DataStructureComponents></s:DataStructure>')
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<m:Structure xmlns:m="{M}" xmlns:s="{S}" xmlns:c="{C}">'
        f"<m:Header><m:ID>DF{flow}</m:ID><m:Test>false</m:Test>"
        f'<m:Prepared>{prepared}</m:Prepared><m:Sender id="ESTAT"/></m:Header>'
        f"<m:Structures><s:Dataflows>{dataflow}</s:Dataflows><s:Codelists>{codelists}"
        f"</s:Codelists><s:Concepts>{concepts}</s:Concepts><s:DataStructures>{dsd}"
        "</s:DataStructures></m:Structures></m:Structure>\n").encode()
