"""A small fixture KB made of model dataclasses (independent of the bundled KB data).

It carries only VERIFIED facts from the spec (knowledge-base.md sections 4, 7, 9, 14)
so that the engine's rules can be tested in isolation; the bundled KB is tested
against the Lin 2017 table in test_interpret_lin2017.py.
"""

from __future__ import annotations

import pytest

from kinresist.kb.coordinates import CdsSegment, Transcript
from kinresist.kb.knowledge_base import KnowledgeBase
from kinresist.kb.model import Alteration, Drug, Evidence, Gene, GenomicAllele, Mechanism, Profile
from kinresist.kb.records import KBRelease, PriorRule

LIN = "Lin JJ, Riely GJ, Shaw AT. Cancer Discov 2017;7:137 (Table 2)"
LIN_PMID = "28057772"
OFF = -222866


def _ga(
    pos37: int, ref: str, alt: str
) -> tuple[tuple[GenomicAllele, ...], tuple[GenomicAllele, ...]]:
    return (GenomicAllele("2", pos37, ref, alt),), (GenomicAllele("2", pos37 + OFF, ref, alt),)


def _alk(
    name: str,
    codon: int,
    exon: int,
    hgvs_c: tuple[str, ...],
    alleles: list[tuple[int, str, str]],
    **kw,
) -> Alteration:
    g37 = tuple(GenomicAllele("2", p, r, a) for p, r, a in alleles)
    g38 = tuple(GenomicAllele("2", p + OFF, r, a) for p, r, a in alleles)
    return Alteration(
        id=f"ALK:{name}",
        gene="ALK",
        name=name,
        kind=kw.pop("kind", "substitution"),
        codon=codon,
        ref_aa=name[0],
        alt_aa=name[-1],
        exon=exon,
        hgvs_c=hgvs_c,
        grch37=g37,
        grch38=g38,
        **kw,
    )


def _ev(
    i: int,
    profile: str,
    drug: str,
    effect: str,
    level: str = "D",
    *,
    pmid=None,
    eid=None,
    src=LIN,
    ms="ba_f3",
    disease="Lung Non-small Cell Carcinoma",
    status="VERIFIED",
    note="",
) -> Evidence:
    return Evidence(
        id=f"T{i:04d}",
        profile=profile,
        drugs=tuple(drug.split(" + ")),
        effect=effect,
        level=level,
        model_system=ms,
        source=src,
        status=status,
        pmid=pmid,
        civic_eid=eid,
        disease=disease,
        note=note,
    )


def build_fixture_kb() -> KnowledgeBase:
    alk_segments = (
        CdsSegment(20, 3173, 3359, 29446208, 29446394),
        CdsSegment(21, 3360, 3450, 29445383, 29445473),
        CdsSegment(22, 3451, 3515, 29445210, 29445274),
        CdsSegment(23, 3516, 3645, 29443572, 29443701),
        CdsSegment(24, 3646, 3743, 29436850, 29436947),
        CdsSegment(25, 3744, 3836, 29432652, 29432744),
    )
    tx = Transcript("ALK", "NM_004304.5", "2", "-", OFF, alk_segments)
    genes = [
        Gene(
            "ALK", "ALK receptor tyrosine kinase", "2", "-", "NM_004304.5", "ENST00000389048.8", OFF
        ),
        Gene("MET", "MET proto-oncogene", "7", "+", "NM_000245.4", "ENST00000397752.8", 359946),
        Gene("KRAS", "KRAS proto-oncogene", "12", "-", "NM_004985.5", "ENST00000311936.8", -152934),
        Gene("EGFR", "EGFR", "7", "+", "NM_005228.5", "ENST00000275493.7", -67693),
    ]
    drugs = [
        Drug(
            "crizotinib",
            "ALK TKI (1st generation)",
            ("ALK", "MET", "ROS1"),
            generation=1,
            approved=True,
        ),
        Drug("ceritinib", "ALK TKI (2nd generation)", ("ALK",), generation=2, approved=True),
        Drug("alectinib", "ALK TKI (2nd generation)", ("ALK",), generation=2, approved=True),
        Drug("brigatinib", "ALK TKI (2nd generation)", ("ALK",), generation=2, approved=True),
        Drug(
            "lorlatinib",
            "ALK TKI (3rd generation)",
            ("ALK", "ROS1"),
            ("PF-06463922",),
            generation=3,
            approved=True,
        ),
        Drug("ensartinib", "ALK TKI (2nd generation)", ("ALK",), generation=2),
        Drug("entrectinib", "ROS1/TRK/ALK TKI", ("ALK", "ROS1"), approved=True),
        Drug("defactinib", "FAK inhibitor", ("PTK2",), ("VS-6063",)),
    ]
    alts = [
        _alk(
            "G1202R",
            1202,
            23,
            ("c.3604G>A",),
            [(29443613, "C", "T")],
            aliases=("p.Gly1202Arg",),
            hgvs_p="p.Gly1202Arg",
        ),
        _alk(
            "F1174L",
            1174,
            23,
            ("c.3522C>A", "c.3522C>G", "c.3520T>C"),
            [(29443695, "G", "T"), (29443695, "G", "C"), (29443697, "A", "G")],
        ),
        _alk("L1196M", 1196, 23, ("c.3586C>A",), [(29443631, "G", "T")]),
        _alk("L1198F", 1198, 23, ("c.3592C>T",), [(29443625, "G", "A")]),
        _alk("C1156Y", 1156, 22, ("c.3467G>A",), [(29445258, "C", "T")]),
        _alk("I1171N", 1171, 22, ("c.3512T>A",), [(29445213, "A", "T")]),
        _alk("G1269A", 1269, 25, ("c.3806G>C",), [(29432682, "C", "G")]),
        _alk(
            "T1151dup",
            1151,
            22,
            ("c.3451_3453dup",),
            [(29445271, "G", "GCGT")],
            kind="insertion",
            aliases=("1151Tins",),
        ),
        Alteration(
            "ALK:EML4-ALK v3",
            "ALK",
            "EML4-ALK v3",
            "fusion",
            fusion_partner="EML4",
            fusion_variant="v3",
        ),
        Alteration("ALK:FUSION", "ALK", "ALK fusion", "fusion"),
        Alteration("ALK:AMPLIFICATION", "ALK", "AMPLIFICATION", "amplification"),
        Alteration("MET:AMPLIFICATION", "MET", "AMPLIFICATION", "amplification"),
        Alteration("KRAS:G12C", "KRAS", "G12C", "substitution", codon=12, exon=2),
        Alteration("KRAS:MUTATION", "KRAS", "MUTATION", "gene_mutation"),
    ]
    profiles = [Profile(a.id, f"{a.gene} {a.name}", (a.id,)) for a in alts]
    profiles += [
        Profile(
            "ALK:C1156Y+ALK:L1198F",
            "ALK L1198F + C1156Y",
            ("ALK:C1156Y", "ALK:L1198F"),
            "EML4::ALK",
        ),
        Profile(
            "ALK:I1171N+ALK:L1196M",
            "ALK I1171N + L1196M",
            ("ALK:I1171N", "ALK:L1196M"),
            "EML4::ALK",
        ),
        Profile(
            "ALK:G1202R+ALK:I1171N+ALK:L1196M",
            "ALK G1202R + I1171N + L1196M",
            ("ALK:G1202R", "ALK:I1171N", "ALK:L1196M"),
            "EML4::ALK",
        ),
    ]
    ev = [
        # Lin 2017 Table 2 (a review; level B here) for the rows used by the rule tests
        _ev(
            1, "ALK:G1202R", "crizotinib", "resistant", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
        _ev(2, "ALK:G1202R", "alectinib", "resistant", "B", pmid=LIN_PMID, ms="review", disease=""),
        _ev(
            3,
            "ALK:G1202R",
            "brigatinib",
            "sensitive",
            "B",
            pmid=LIN_PMID,
            ms="review",
            disease="",
            note="T^a",
        ),
        _ev(
            4,
            "ALK:G1202R",
            "brigatinib",
            "resistant",
            "B",
            pmid=LIN_PMID,
            ms="review",
            disease="",
            note="R^a",
        ),
        _ev(
            5,
            "ALK:G1202R",
            "lorlatinib",
            "sensitive",
            "B",
            pmid=LIN_PMID,
            ms="review",
            disease="",
            note="T^b",
        ),
        _ev(6, "ALK:G1202R", "brigatinib", "resistant", "D", pmid="25727400", eid="EID1351"),
        _ev(
            7, "ALK:L1196M", "crizotinib", "resistant", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
        _ev(8, "ALK:L1196M", "alectinib", "sensitive", "B", pmid=LIN_PMID, ms="review", disease=""),
        _ev(
            9, "ALK:L1196M", "lorlatinib", "sensitive", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
        _ev(
            10, "ALK:L1198F", "crizotinib", "sensitive", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
        _ev(
            11, "ALK:C1156Y", "crizotinib", "resistant", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
        _ev(
            12, "ALK:C1156Y", "lorlatinib", "sensitive", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
        _ev(
            13, "ALK:C1156Y", "alectinib", "sensitive", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
        _ev(
            14,
            "ALK:C1156Y+ALK:L1198F",
            "lorlatinib",
            "resistant",
            "C",
            pmid="26698910",
            eid="EID843",
            ms="patient",
        ),
        _ev(
            15,
            "ALK:C1156Y+ALK:L1198F",
            "crizotinib",
            "sensitive",
            "C",
            pmid="26698910",
            eid="EID844",
            ms="patient",
        ),
        _ev(
            16,
            "ALK:I1171N+ALK:L1196M",
            "lorlatinib",
            "sensitive",
            "C",
            pmid="32600123",
            eid="EID11113",
            ms="patient",
        ),
        _ev(
            17,
            "ALK:I1171N+ALK:L1196M",
            "alectinib",
            "resistant",
            "C",
            pmid="32600123",
            eid="EID11115",
            ms="patient",
        ),
        _ev(
            18,
            "ALK:G1202R+ALK:I1171N+ALK:L1196M",
            "lorlatinib",
            "resistant",
            "C",
            pmid="32600123",
            eid="EID11114",
            ms="patient",
        ),
        _ev(
            19, "ALK:F1174L", "crizotinib", "resistant", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
        _ev(
            20,
            "ALK:AMPLIFICATION",
            "crizotinib",
            "resistant",
            "C",
            pmid="22277784",
            eid="EID440",
            ms="patient",
        ),
        _ev(21, "ALK:FUSION", "crizotinib", "sensitive", "A", pmid="24724044", ms="patient"),
        _ev(22, "ALK:FUSION", "alectinib", "sensitive", "A", pmid="28586279", ms="patient"),
        _ev(23, "ALK:FUSION", "lorlatinib", "sensitive", "A", pmid="32004000", ms="patient"),
        _ev(
            24, "ALK:G1269A", "alectinib", "sensitive", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
        _ev(25, "ALK:G1269A", "alectinib", "resistant", "D", pmid="25727400", eid="EID1354"),
        _ev(
            26,
            "ALK:C1156Y",
            "ceritinib",
            "sensitive",
            "D",
            src="source document",
            status="SOURCE-DOC",
        ),
        _ev(
            27, "ALK:C1156Y", "ceritinib", "resistant", "B", pmid=LIN_PMID, ms="review", disease=""
        ),
    ]
    mechs = [
        Mechanism(
            "bypass_met",
            "MET amplification",
            "bypass_rtk",
            ("MET",),
            "MET amplification bypasses ALK inhibition",
            alterations=("MET:AMPLIFICATION",),
            resists=("alectinib", "lorlatinib", "brigatinib", "ceritinib"),
            options=("ALK + MET blockade",),
            investigations=("MET FISH / MET copy number by NGS",),
            references=("Dagogo-Jack 2020",),
        ),
    ]
    priors = [
        PriorRule(
            "v3_g1202r",
            "ALK:EML4-ALK v3",
            "progression on a 2nd-generation ALK TKI",
            "ALK:G1202R",
            "EML4-ALK v3 carries G1202R more often than v1 after 2nd-generation TKIs (32 % vs 0 %)",
            pmid="29373100",
        ),
    ]
    release = KBRelease(
        version="fixture-1",
        base_version="fixture-1",
        release_date="2026-11-22",
        schema_version="1",
        path="",
    )
    return KnowledgeBase(
        release=release,
        genes=genes,
        transcripts=[tx],
        drugs=drugs,
        alterations=alts,
        profiles=profiles,
        evidence=ev,
        mechanisms=mechs,
        priors=priors,
    )


@pytest.fixture(scope="session")
def fixture_kb() -> KnowledgeBase:
    return build_fixture_kb()
