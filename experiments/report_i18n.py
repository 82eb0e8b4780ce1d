"""Labels, texts and number formats of the report in French and English.

French typography follows the Imprimerie nationale's *Lexique des règles typographiques*: a
narrow no-break space (U+202F) before ``; : ! ? %`` and inside « guillemets », as the thousands
separator; a decimal comma; dates in words (« 2 décembre 2026 »). Negative numbers take the true
minus sign ``−`` (U+2212) in both languages.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import NamedTuple

NBSP = "\u202f"  # narrow no-break space: French thousands separator and before ; : ! ? %
MINUS = "\u2212"
LANGS = ("fr", "en")

MONTHS = {"fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
                 "septembre", "octobre", "novembre", "décembre"),
          "en": ("January", "February", "March", "April", "May", "June", "July", "August",
                 "September", "October", "November", "December")}


def fmt_number(v: float | None, lang: str, digits: int = 2, signed: bool = False) -> str:
    """Format a number with the language's separators (fr ``1 234,5``, en ``1,234.5``).

    Negative values get the true minus sign; ``signed`` also writes ``+`` before positive ones.
    """
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if round(v, digits) == 0:
        v = 0.0  # no "−0,0"
    s = f"{abs(v):,.{digits}f}"
    if lang == "fr":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", NBSP)
    if v < 0:
        return MINUS + s
    return ("+" + s) if signed and v > 0 else s


def fmt_percent(v: float | None, lang: str, digits: int = 1, signed: bool = False) -> str:
    """Format a share as a percentage (French: ``25,3 %`` with a narrow no-break space)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    num = fmt_number(100.0 * v, lang, digits, signed)
    return f"{num}{NBSP}%" if lang == "fr" else f"{num}%"


def fmt_points(v: float | None, lang: str, digits: int = 1) -> str:
    """Format a difference of two shares in percentage points, signed (``+1,2 pt``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    return fmt_number(100.0 * v, lang, digits, signed=True) + (
        "\u00a0pt" if lang == "fr" else "\u00a0pp")


def fmt_date(day: _dt.date, lang: str) -> str:
    """Write a date in words: ``2 décembre 2026`` / ``2 December 2026`` (1er in French)."""
    d = "1er" if (lang == "fr" and day.day == 1) else str(day.day)
    return f"{d} {MONTHS[lang][day.month - 1]} {day.year}"


_FR_SPACE = re.compile(r"[ \u00a0\u202f]?([;:!?%»])")
_FR_OPEN = re.compile(r"«[ \u00a0\u202f]?")


def french_typography(text: str) -> str:
    """Put a narrow no-break space before ``; : ! ? % »`` and after ``«`` (plain text only)."""
    text = _FR_SPACE.sub(lambda m: NBSP + m.group(1), text)
    return _FR_OPEN.sub("«" + NBSP, text)


class Indicator(NamedTuple):
    """How the report shows an indicator: its labels and the kind of unit.

    ``kind`` is ``share`` (a fraction shown in percent, differences in points), ``index`` (a
    segregation index in 0..1, three decimals), ``months``, ``days``, ``ratio`` (one decimal) or
    ``count`` (a yearly count, rescaled to the whole territory).
    """

    fr: str
    en: str
    kind: str


INDICATORS: dict[str, Indicator] = {
    "dissimilarity_q1_by_neighbourhoods": Indicator(
        "Ségrégation des ménages Q1 (indice D, quartiers)",
        "Segregation of Q1 households (D index, neighbourhoods)", "index"),
    "theil_h_quartiles_by_neighbourhoods": Indicator(
        "Ségrégation des quartiles de revenu (H de Theil)",
        "Segregation of income quartiles (Theil's H)", "index"),
    "q1_share_in_qpv": Indicator("Part des ménages Q1 vivant en QPV",
                                 "Share of Q1 households living in QPV", "share"),
    "q1_share_of_qpv_households": Indicator("Part de ménages Q1 parmi les ménages des QPV",
                                            "Q1 share of QPV households", "share"),
    "q1_share": Indicator("Part de ménages du 1er quartile", "Share of first-quartile households",
                          "share"),
    "q1_share_leases_outside_qpv": Indicator("Baux hors QPV signés par des ménages Q1",
                                             "Leases outside QPV signed by Q1 households",
                                             "share"),
    "q234_share_leases_inside_qpv": Indicator("Baux en QPV signés par des ménages Q2 à Q4",
                                              "Leases in QPV signed by Q2–Q4 households", "share"),
    "priority_share": Indicator("Attributions aux ménages prioritaires",
                                "Allocations to priority households", "share"),
    "transfer_share": Indicator("Part des mutations dans les attributions",
                                "Transfers among allocations", "share"),
    "turnover": Indicator("Taux de rotation", "Turnover", "share"),
    "vacancy": Indicator("Taux de vacance", "Vacancy", "share"),
    "applicants_per_allocation": Indicator("Demandes par attribution",
                                           "Applicants per allocation", "ratio"),
    "median_wait_months": Indicator("Attente médiane des attributaires (mois)",
                                    "Median wait of allocated applicants (months)", "months"),
    "mean_wait_days": Indicator("Attente moyenne des attributaires (jours)",
                                "Mean wait of allocated applicants (days)", "days"),
    "refusal_rate": Indicator("Refus par proposition", "Refusals per offer", "share"),
    "exits_to_ownership": Indicator("Sorties vers l'accession (par an)",
                                    "Exits to ownership (per year)", "count"),
    "exits_to_private_rental": Indicator("Sorties vers le parc privé (par an)",
                                         "Exits to private renting (per year)", "count"),
    "moves_qpv_to_non_qpv": Indicator("Déménagements d'un QPV vers hors QPV (par an)",
                                      "Moves from QPV to outside QPV (per year)", "count"),
}

#: Noun phrases of the indicators in the key messages ("X lowers <phrase> by ...").
PHRASES: dict[str, dict[str, str]] = {
    "dissimilarity_q1_by_neighbourhoods": {
        "fr": "l'indice de ségrégation D des ménages Q1",
        "en": "the D segregation index of Q1 households"},
    "theil_h_quartiles_by_neighbourhoods": {"fr": "le H de Theil des quartiles de revenu",
                                            "en": "Theil's H of income quartiles"},
    "q1_share_in_qpv": {"fr": "la part des ménages Q1 vivant en QPV",
                        "en": "the share of Q1 households living in QPV"},
    "q1_share_of_qpv_households": {"fr": "la part de ménages Q1 parmi les ménages des QPV",
                                   "en": "the Q1 share of QPV households"},
    "exits_to_ownership": {"fr": "les sorties vers l'accession", "en": "exits to ownership"},
    "moves_qpv_to_non_qpv": {"fr": "les déménagements d'un QPV vers hors QPV",
                             "en": "moves from QPV to outside QPV"},
    "exits_to_private_rental": {"fr": "les sorties vers le parc privé",
                                "en": "exits to private renting"},
    "median_wait_months": {"fr": "l'attente médiane des attributaires",
                           "en": "the median wait of allocated applicants"},
    "vacancy": {"fr": "la vacance", "en": "vacancy"},
}

#: Units written after a difference in the key messages, by unit kind.
UNIT_WORDS: dict[str, dict[str, str]] = {
    "count": {"fr": " par an", "en": " a year"},
    "months": {"fr": " mois", "en": " months"},
    "days": {"fr": " jours", "en": " days"},
}

#: Compatibility view: indicator → {"fr": label, "en": label}.
LABELS: dict[str, dict[str, str]] = {k: {"fr": v.fr, "en": v.en} for k, v in INDICATORS.items()}


class LeverText(NamedTuple):
    """Plain-language title and description of a lever group, in both languages."""

    fr: str
    en: str
    fr_desc: str
    en_desc: str


LEVERS: dict[str, LeverText] = {
    "quota_q1": LeverText(
        "Quota de ménages Q1 hors QPV", "Q1 quota outside QPV",
        "La loi (article L441-1 du CCH) demande qu'au moins 25 % des baux signés hors QPV aillent "
        "à des ménages du premier quartile de revenus des demandeurs (ou relogés du renouvellement "
        "urbain). « Ciblé » : les demandeurs Q1 reçoivent des points tant que l'objectif n'est pas "
        "atteint ; « strict » : les propositions leur sont réservées tant qu'il manque des baux.",
        "The law (article L441-1 of the Construction and Housing Code) asks that at least 25% of "
        "leases signed outside QPV go to households of the first income quartile of applicants "
        "(or urban-renewal relocations). \"Target\": Q1 applicants get points while the goal is "
        "missed; \"strict\": offers are reserved for them while leases are lacking."),
    "quota_qpv": LeverText(
        "Objectif de ménages Q2 à Q4 en QPV", "Q2–Q4 target inside QPV",
        "La convention intercommunale fixe une part des baux en QPV pour les ménages des "
        "quartiles 2 à 4 (50 % par défaut), appliquée comme le quota Q1.",
        "The intercommunal convention sets a share of QPV leases for households of quartiles "
        "2 to 4 (50% by default), enforced like the Q1 quota."),
    "priority": LeverText(
        "Ménages prioritaires", "Priority households",
        "Part des attributions de chaque réservataire due aux ménages prioritaires (DALO et "
        "critères de l'article L441-1).",
        "Share of each holder's allocations owed to priority households (DALO and the criteria "
        "of article L441-1)."),
    "reservation": LeverText(
        "Gestion des réservations", "Reservation management",
        "En « stock », chaque logement appartient durablement à un réservataire (préfet, Action "
        "Logement, commune) ; en « flux » (loi ELAN), chaque réservataire a droit à une part des "
        "logements libérés dans l'année, ce qui élargit le choix des candidats.",
        "Under \"stock\", each dwelling belongs to one holder for good (préfet, Action Logement, "
        "commune); under \"flow\" (ELAN law), each holder is owed a share of the dwellings "
        "vacated in the year, which widens the choice of candidates."),
    "cotation": LeverText(
        "Grille de cotation", "Scoring grid",
        "Points donnés aux demandeurs selon des critères objectifs (ancienneté, priorité, "
        "sur-occupation...) qui fixent leur rang.",
        "Points given to applicants on objective criteria (time waited, priority, "
        "overcrowding...) that set their rank."),
    "commission": LeverText(
        "Candidats par logement", "Candidates per dwelling",
        "Nombre de candidats classés examinés par la commission d'attribution pour chaque "
        "logement (trois selon la loi ELAN).",
        "Number of ranked candidates the allocation committee examines per dwelling (three "
        "under the ELAN law)."),
    "information": LeverText(
        "Information des demandeurs", "Information of applicants",
        "Gestion partagée de la demande et information : des vœux plus larges (nombre de "
        "communes demandées) et moins de refus de propositions réalistes.",
        "Shared demand management and information: wider wishes (number of communes asked for) "
        "and fewer refusals of realistic offers."),
    "rent": LeverText(
        "Politique des loyers", "Rent policy",
        "Modulation des loyers à la relocation, à recettes constantes : loyers baissés hors QPV "
        "pour les ménages modestes, relevés en QPV ; réduction de loyer de solidarité (RLS).",
        "Revenue-neutral rent modulation at re-letting: rents lowered outside QPV for "
        "low-income households, raised inside QPV; solidarity rent reduction (RLS)."),
    "over_income": LeverText(
        "Locataires dépassant les plafonds", "Over-income tenants",
        "Supplément de loyer de solidarité au-delà de 1,2 fois le plafond, perte du droit au "
        "maintien au-delà de 1,5 fois le plafond PLS pendant deux ans (QPV exemptés).",
        "Rent surcharge above 1.2 times the ceiling, loss of the right to stay above 1.5 times "
        "the PLS ceiling for two years (QPV exempt)."),
    "transfers": LeverText(
        "Mutations", "Transfers",
        "Part des attributions réservée aux demandes de mutation des locataires du parc social.",
        "Share of allocations pursued for transfer requests of social tenants."),
    "construction": LeverText(
        "Construction neuve", "New construction",
        "Logements sociaux neufs par an, leur part hors QPV et en PLAI, et leur placement en "
        "priorité dans les communes en retard au titre de la loi SRU.",
        "New social dwellings per year, their share outside QPV and as PLAI, and their "
        "placement first in communes behind their SRU rate."),
    "renewal": LeverText(
        "Renouvellement urbain (ANRU)", "Urban renewal (ANRU)",
        "Démolitions de logements sociaux en QPV, relogement prioritaire des ménages et "
        "reconstruction hors QPV (au moins 60 % en PLAI).",
        "Demolition of social dwellings in QPV, priority relocation of the households and "
        "rebuilding outside QPV (at least 60% PLAI)."),
    "renovation": LeverText(
        "Rénovation et services", "Renovation and services",
        "Investissement annuel dans chaque QPV (équipements, réhabilitation) qui relève son "
        "attractivité.",
        "Yearly investment in each QPV (facilities, rehabilitation) that raises its "
        "attractiveness."),
    "sales": LeverText(
        "Vente aux locataires", "Sales to tenants",
        "Part du parc social vendue chaque année à ses occupants, qui deviennent propriétaires.",
        "Share of the social stock sold each year to its tenants, who become owners."),
}

#: Short names of the lever groups in generated scenario titles (grid points).
SHORT: dict[str, dict[str, str]] = {
    "quota_q1": {"fr": "quota Q1", "en": "Q1 quota"},
    "quota_qpv": {"fr": "objectif QPV", "en": "QPV target"},
    "priority": {"fr": "prioritaires", "en": "priority"},
    "reservation": {"fr": "réservations", "en": "reservations"},
    "cotation": {"fr": "cotation", "en": "scoring"},
    "commission": {"fr": "commission", "en": "committee"},
    "information": {"fr": "information", "en": "information"},
    "rent": {"fr": "loyers", "en": "rents"},
    "over_income": {"fr": "dépassement des plafonds", "en": "over-income"},
    "transfers": {"fr": "mutations", "en": "transfers"},
    "construction": {"fr": "construction", "en": "construction"},
    "renewal": {"fr": "renouvellement", "en": "renewal"},
    "renovation": {"fr": "rénovation", "en": "renovation"},
    "sales": {"fr": "ventes", "en": "sales"},
}
#: Fields a short title leaves unsaid (the group's main setting).
MAIN_FIELDS = ("enforcement", "management", "level", "share_per_year")

#: Words for lever values in generated scenario titles.
VALUES: dict[str, dict[str, str]] = {
    "none": {"fr": "non appliqué", "en": "not enforced"},
    "target": {"fr": "ciblé", "en": "target"},
    "strict": {"fr": "strict", "en": "strict"},
    "stock": {"fr": "stock", "en": "stock"},
    "flux": {"fr": "flux", "en": "flow"},
    "True": {"fr": "oui", "en": "yes"},
    "False": {"fr": "non", "en": "no"},
}

#: Short names of lever fields in generated scenario titles.
FIELDS: dict[str, dict[str, str]] = {
    "enforcement": {"fr": "application", "en": "enforcement"},
    "share": {"fr": "part", "en": "share"},
    "modulation": {"fr": "modulation", "en": "modulation"},
    "management": {"fr": "gestion", "en": "management"},
    "level": {"fr": "niveau", "en": "level"},
    "wish_breadth": {"fr": "communes demandées", "en": "communes wished"},
    "demolitions_per_year": {"fr": "démolitions par an", "en": "demolitions per year"},
    "rebuild_outside_share": {"fr": "reconstruction hors QPV", "en": "rebuilt outside QPV"},
    "investment_per_qpv": {"fr": "investissement par QPV", "en": "investment per QPV"},
    "units_per_year": {"fr": "logements par an", "en": "units per year"},
    "candidates_per_dwelling": {"fr": "candidats", "en": "candidates"},
}

GLOSSARY: dict[str, tuple[tuple[str, str], ...]] = {
    "fr": (
        ("QPV", "Quartier prioritaire de la politique de la ville : quartier où le revenu "
                "médian est très inférieur à celui de l'agglomération, défini par décret."),
        ("CIL", "Conférence intercommunale du logement : elle réunit l'intercommunalité, les "
                "communes, l'État, les bailleurs et les réservataires et fixe les objectifs "
                "d'attribution."),
        ("Q1, Q2 à Q4", "Quartiles de revenu par unité de consommation des demandeurs : Q1 "
                        "désigne le quart des demandeurs aux revenus les plus faibles."),
        ("Indice D", "Indice de dissimilarité de Duncan : part des ménages Q1 qui devraient "
                     "changer de quartier pour que chaque quartier ait la même part de Q1 "
                     "(0 : répartition uniforme ; 1 : séparation complète)."),
        ("H de Theil", "Indice d'entropie qui mesure la séparation des quatre quartiles de "
                       "revenu entre quartiers (0 : aucune séparation)."),
        ("Scénario", "Une combinaison de valeurs des leviers."),
        ("Scénario de référence", "Le scénario auquel les autres sont comparés, en général "
                                  "les pratiques actuelles."),
        ("Réplication", "Une simulation avec son propre tirage aléatoire ; chaque scénario "
                        "est simulé plusieurs fois pour mesurer l'incertitude."),
        ("Écart apparié", "Différence entre un scénario et la référence simulés avec le même "
                          "tirage aléatoire ; elle isole l'effet des leviers du hasard."),
        ("Intervalle à 90 %", "Fourchette qui contient 90 % des réplications ; un écart est "
                              "jugé au-delà du bruit quand son intervalle ne contient pas zéro."),
        ("Rotation", "Part des logements sociaux existants qui changent de locataire dans "
                     "l'année."),
        ("Vacance", "Part des logements sociaux vides en décembre."),
        ("Commune SRU", "Commune soumise à l'article 55 de la loi SRU (taux minimal de "
                        "logements sociaux)."),
    ),
    "en": (
        ("QPV", "Priority neighbourhood of urban policy (quartier prioritaire de la politique "
                "de la ville): a neighbourhood whose median income is far below the "
                "agglomeration's, set by decree."),
        ("CIL", "Intercommunal housing conference: the intercommunality, communes, State, "
                "landlords and reservation holders, which sets the allocation goals."),
        ("Q1, Q2–Q4", "Quartiles of applicants' income per consumption unit: Q1 is the "
                      "poorest quarter of applicants."),
        ("D index", "Duncan's dissimilarity index: the share of Q1 households that would have "
                    "to move for every neighbourhood to have the same Q1 share (0: even; "
                    "1: complete separation)."),
        ("Theil's H", "Entropy index of how separated the four income quartiles are across "
                      "neighbourhoods (0: no separation)."),
        ("Scenario", "One combination of lever values."),
        ("Reference scenario", "The scenario the others are compared with, usually today's "
                               "practice."),
        ("Replicate", "One simulation with its own random draw; every scenario is simulated "
                      "several times to measure uncertainty."),
        ("Paired difference", "The difference between a scenario and the reference simulated "
                              "with the same random draw; it separates the levers' effect "
                              "from chance."),
        ("90% interval", "The range that holds 90% of the replicates; a difference is beyond "
                         "the noise when its interval does not contain zero."),
        ("Turnover", "Share of existing social dwellings that get a new tenant in the year."),
        ("Vacancy", "Share of social dwellings empty in December."),
        ("SRU commune", "A commune bound by article 55 of the SRU law (minimum share of social "
                        "housing)."),
    ),
}

ASSUMPTIONS: dict[str, tuple[str, ...]] = {
    "fr": (
        "Le territoire par défaut est une agglomération synthétique aux ordres de grandeur "
        "nationaux (environ 100 000 ménages, 8 communes, une cinquantaine de quartiers dont une "
        "dizaine de QPV) : ce n'est pas un territoire réel.",
        "Les comportements (demandes, refus, départs) suivent des règles calées sur des chiffres "
        "nationaux publiés ; ils ne changent pas d'un scénario à l'autre.",
        "Les effectifs sont simulés sur une version réduite du territoire puis ramenés au "
        "territoire entier ; les parts et indices ne dépendent pas de l'échelle.",
        "Les leviers agissent tels qu'ils sont décrits ; les comportements stratégiques des "
        "acteurs et les effets de marché hors du territoire ne sont pas représentés.",
        "Les intervalles reflètent le hasard de la simulation et les paramètres incertains "
        "tirés pour chaque réplication, pas toutes les incertitudes sur l'avenir.",
    ),
    "en": (
        "The default territory is a synthetic agglomeration with national orders of magnitude "
        "(about 100,000 households, 8 communes, some fifty neighbourhoods of which about ten "
        "QPV): it is not a real place.",
        "Behaviour (applications, refusals, exits) follows rules calibrated on published "
        "national figures; it does not change from one scenario to another.",
        "Counts are simulated on a scaled-down territory and rescaled to the whole territory; "
        "shares and indices do not depend on the scale.",
        "Levers act as described; strategic behaviour of the actors and market effects beyond "
        "the territory are not represented.",
        "Intervals reflect the simulation's chance and the uncertain parameters drawn for each "
        "replicate, not every uncertainty about the future.",
    ),
}

SOURCES: dict[str, tuple[str, ...]] = {
    "fr": (
        "Code de la construction et de l'habitation, articles L441-1 et suivants (quotas "
        "d'attribution, loi Égalité et Citoyenneté 2017, loi ELAN 2018) — legifrance.gouv.fr.",
        "SDES, Répertoire des logements locatifs des bailleurs sociaux (RPLS) et bilans annuels "
        "du parc social : rotation, vacance, demandes par attribution.",
        "ANCOLS, suivi des attributions : part des baux hors QPV attribués aux ménages Q1, "
        "délais d'attente.",
        "Union sociale pour l'habitat : part des mutations, profil des locataires.",
        "INSEE, Filosofi (revenus par IRIS) et ONPV (pauvreté en QPV).",
        "Eurométropole de Strasbourg (2017) : refus des propositions.",
        "Massey et Denton (1988), Reardon et Firebaugh (2002) : indices de ségrégation.",
    ),
    "en": (
        "French Construction and Housing Code, articles L441-1 ff. (allocation quotas, Equality "
        "and Citizenship law 2017, ELAN law 2018) — legifrance.gouv.fr.",
        "SDES, register of social landlords' rental dwellings (RPLS) and yearly social-housing "
        "reports: turnover, vacancy, applicants per allocation.",
        "ANCOLS, allocation monitoring: share of leases outside QPV to Q1 households, waits.",
        "Union sociale pour l'habitat: share of transfers, tenants' profile.",
        "INSEE, Filosofi (income by IRIS) and ONPV (poverty in QPV).",
        "Eurométropole de Strasbourg (2017): refusals of offers.",
        "Massey and Denton (1988), Reardon and Firebaugh (2002): segregation indices.",
    ),
}

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Rapport de simulation", "scenario": "Scénario", "reference": "référence",
        "year": "année", "years": "années", "start": "Situation initiale", "yes": "oui",
        "no": "non",
        "question": "Question", "territory": "Territoire", "horizon": "Horizon",
        "horizon_value": "{years} ans (de l'année 0 à l'année {years})",
        "territory_value": "{name}, {households} ménages, simulé à l'échelle {scale} "
                           "(les effectifs sont ramenés au territoire entier)",
        "territory_default": "agglomération synthétique par défaut",
        "meta": "{scenarios} scénarios, {replicates} réplications par scénario ; scénario de "
                "référence : {reference} ; rapport du {date}.",
        "failed_runs": "{n} simulation(s) en échec exclue(s).",
        "key_messages": "Messages clés",
        "key_intro": "À l'horizon (année {year}), comparés au scénario de référence "
                     "« {reference} » avec les mêmes tirages aléatoires :",
        "msg_target_met": "Objectif de {target} pour les {what} : atteint par {who}.",
        "msg_target_none": "Objectif de {target} pour les {what} : aucun scénario ne "
                           "l'atteint ; le plus proche est {best} ({value}).",
        "msg_target_ref": " La référence en est à {value}.",
        "msg_target_many": "Objectif de {target} pour les {what} : atteint par {n} scénarios "
                           "sur {total}, les plus élevés étant {who}.",
        "msg_effect": "{what} : {who}.",
        "msg_effect_none": "{what} : aucun scénario ne s'écarte de la référence au-delà du "
                           "bruit.",
        "msg_change": "{scenario} {verb} {what} de {diff} (intervalle de {lo} à {hi})",
        "msg_cost": "Coût pour les demandeurs et le parc : {who}.",
        "msg_cost_none": "Coût pour les demandeurs et le parc : aucun scénario n'allonge "
                         "l'attente ni n'augmente la vacance au-delà du bruit.",
        "msg_noise": "Un écart est dit « au-delà du bruit » quand 90 % des écarts appariés "
                     "entre le scénario et la référence ont le même signe ; avec {n} "
                     "réplications, les petits effets restent incertains.",
        "up": "augmente", "down": "réduit",
        "what_q1": "ménages Q1 dans les baux hors QPV",
        "what_qpv": "ménages Q2 à Q4 dans les baux en QPV",
        "polarisation": "Ségrégation et concentration",
        "upward": "Parcours ascendants",
        "scenarios": "Les scénarios comparés", "col_scenario": "Scénario",
        "col_description": "Description", "col_changes": "Leviers modifiés",
        "levers_used": "Les leviers utilisés",
        "comparison": "Comparaison à l'horizon",
        "comparison_intro": "Valeurs à l'horizon (année {year}) : moyenne sur les réplications "
                            "et intervalle à 90 % entre crochets. Les cases vertes atteignent "
                            "l'objectif de la CIL, les rouges ne l'atteignent pas.",
        "targets": "Objectifs", "targets_met": "Objectifs atteints",
        "differences": "Écarts appariés au scénario de référence",
        "differences_intro": "Pour chaque scénario, l'écart moyen à la référence (point) et "
                             "l'intervalle qui contient 90 % des écarts appariés (trait). Un "
                             "trait qui ne croise pas zéro indique un effet au-delà du bruit.",
        "diff_table_intro": "Les mêmes écarts en chiffres (année {year}).",
        "trajectories": "Trajectoires des indicateurs clés",
        "trajectories_intro": "Chaque petit graphique compare un scénario (en couleur) à la "
                              "référence (en gris), moyenne des réplications et bande à 90 %.",
        "map": "Cartes des quartiers",
        "map_intro": "Part de ménages du premier quartile par quartier au départ et à "
                     "l'horizon dans le scénario de référence ; les QPV sont cerclés de noir.",
        "map_diff_intro": "Écart à la référence à l'horizon, pour chaque scénario (en points "
                          "de pourcentage ; orange : plus de ménages Q1, violet : moins).",
        "map_discs": "Les contours des quartiers ne sont pas fournis avec ce territoire : "
                     "chaque disque est un quartier placé à ses coordonnées.",
        "communes": "Par commune",
        "communes_intro": "Part de ménages Q1 par commune, au départ et à l'horizon "
                          "(référence), et écart de chaque scénario à la référence.",
        "col_commune": "Commune", "col_sru": "SRU", "col_start": "Départ",
        "col_ref_horizon": "Référence, année {year}",
        "cohort": "Parcours résidentiels des ménages présents au départ",
        "cohort_intro": "Où se trouvent à l'horizon les ménages présents au départ, selon "
                        "qu'ils vivaient en QPV ou hors QPV (« partis » : ont quitté le "
                        "territoire ou sont décédés). Chaque ligne somme à 100 %.",
        "qpv": "QPV", "non_qpv": "hors QPV", "gone": "partis", "at_start": "au départ",
        "at_horizon": "à l'horizon",
        "monitoring": "Suivi des attributions",
        "monitoring_intro": "Indicateurs de suivi de la CIL et de l'ANCOLS à l'horizon "
                            "(année {year}), moyenne des réplications ; effectifs ramenés au "
                            "territoire entier.",
        "sensitivity": "Analyse de sensibilité",
        "sensitivity_intro": "Indices de Sobol' : part de la variance de chaque résultat "
                             "expliquée par chaque levier ou incertitude (premier ordre et "
                             "total), avec leurs intervalles de confiance.",
        "s1": "premier ordre S1", "st": "total ST", "sobol_index": "indice de Sobol'",
        "mu_star": "effet moyen absolu μ*", "col_parameter": "paramètre",
        "col_outcome": "résultat",
        "calibration": "Calage sur les données locales",
        "calibration_intro": "Cibles observées et valeurs simulées au point calé (moyenne et "
                             "intervalle à 90 % des réplications).",
        "col_target": "cible", "col_observed": "observé", "col_simulated": "simulé",
        "col_simulated_p05": "simulé (5 %)", "col_simulated_p95": "simulé (95 %)",
        "col_tolerance": "tolérance", "col_within_tolerance": "dans la tolérance",
        "col_weight": "poids", "col_z": "écart en tolérances",
        "annex": "Annexe",
        "glossary": "Glossaire", "assumptions": "Hypothèses et limites",
        "sources": "Sources des données",
        "validation": "Validation du territoire",
        "validation_intro": "Cibles de calage du territoire comparées au scénario de "
                            "référence simulé : moyenne sur les années de chaque période et "
                            "intervalle à 90 % des réplications. En vert, la valeur simulée est "
                            "dans la tolérance de la cible.",
        "col_band": "années {a} à {b}", "col_value": "valeur observée",
        "validation_missing": "Indicateurs des cibles absents des résultats : {names}.",
        "validation_none": "Aucune cible de calage trouvée pour ce territoire (fichier "
                           "targets.toml).",
        "count_note": "effectifs par an, ramenés au territoire entier (simulation à "
                      "l'échelle {scale})",
        "missing_indicators": "Indicateurs absents des résultats : {names}. Ajoutez-les à "
                              "[outputs] indicators du fichier d'expérience et relancez.",
        "missing_some": "Absents des résultats : {names}.",
        "missing_map": "Les cartes ont besoin des parts de Q1 par quartier : ajoutez "
                       "\"neighbourhood\" à [outputs] scales et \"q1_share\" et \"households\" "
                       "à [outputs] indicators du fichier d'expérience, puis relancez.",
        "missing_territory": "Le territoire de l'expérience est introuvable ({err}).",
        "missing_cohort": "Les matrices de parcours sont absentes : ajoutez les indicateurs "
                          "transition_qpv_* à [outputs] indicators (ou laissez la liste vide).",
        "single_run": "Une seule simulation : pas d'intervalle ni d'écart apparié ; lancez "
                      "une expérience (mixsim experiment) pour comparer des scénarios.",
        "footer": "Produit par mixsim {version}. Définitions des indicateurs et des leviers : "
                  "documentation de mixsim (indicateurs, leviers, sources).",
        "toc": "Sommaire",
    },
    "en": {
        "title": "Simulation report", "scenario": "Scenario", "reference": "reference",
        "year": "year", "years": "years", "start": "Start", "yes": "yes", "no": "no",
        "question": "Question", "territory": "Territory", "horizon": "Horizon",
        "horizon_value": "{years} years (from year 0 to year {years})",
        "territory_value": "{name}, {households} households, simulated at scale {scale} "
                           "(counts are rescaled to the whole territory)",
        "territory_default": "the default synthetic agglomeration",
        "meta": "{scenarios} scenarios, {replicates} replicates per scenario; reference "
                "scenario: {reference}; report of {date}.",
        "failed_runs": "{n} failed run(s) left out.",
        "key_messages": "Key messages",
        "key_intro": "At the horizon (year {year}), compared with the reference scenario "
                     "\"{reference}\" on the same random draws:",
        "msg_target_met": "Goal of {target} for {what}: reached by {who}.",
        "msg_target_none": "Goal of {target} for {what}: no scenario reaches it; the "
                           "closest is {best} ({value}).",
        "msg_target_ref": " The reference stands at {value}.",
        "msg_target_many": "Goal of {target} for {what}: reached by {n} scenarios out of "
                           "{total}, the highest being {who}.",
        "msg_effect": "{what}: {who}.",
        "msg_effect_none": "{what}: no scenario departs from the reference beyond the noise.",
        "msg_change": "{scenario} {verb} {what} by {diff} (interval {lo} to {hi})",
        "msg_cost": "Cost for applicants and the stock: {who}.",
        "msg_cost_none": "Cost for applicants and the stock: no scenario lengthens waits or "
                         "raises vacancy beyond the noise.",
        "msg_noise": "A difference is \"beyond the noise\" when 90% of the paired "
                     "differences between the scenario and the reference have the same sign; "
                     "with {n} replicates, small effects stay uncertain.",
        "up": "raises", "down": "lowers",
        "what_q1": "Q1 households among leases outside QPV",
        "what_qpv": "Q2–Q4 households among leases inside QPV",
        "polarisation": "Segregation and concentration",
        "upward": "Upward moves",
        "scenarios": "The scenarios compared", "col_scenario": "Scenario",
        "col_description": "Description", "col_changes": "Levers changed",
        "levers_used": "The levers used",
        "comparison": "Comparison at the horizon",
        "comparison_intro": "Values at the horizon (year {year}): mean over replicates and "
                            "90% interval in brackets. Green cells meet the CIL goal, red "
                            "ones miss it.",
        "targets": "Goals", "targets_met": "Goals met",
        "differences": "Paired differences to the reference scenario",
        "differences_intro": "For each scenario, the mean difference to the reference (dot) "
                             "and the interval holding 90% of the paired differences (bar). A "
                             "bar that does not cross zero shows an effect beyond the noise.",
        "diff_table_intro": "The same differences in figures (year {year}).",
        "trajectories": "Trajectories of the key indicators",
        "trajectories_intro": "Each small chart compares one scenario (in colour) with the "
                              "reference (in grey): mean over replicates and 90% band.",
        "map": "Neighbourhood maps",
        "map_intro": "Share of first-quartile households per neighbourhood at the start and "
                     "at the horizon in the reference scenario; QPV are outlined in black.",
        "map_diff_intro": "Difference to the reference at the horizon, for every scenario (in "
                          "percentage points; orange: more Q1 households, purple: fewer).",
        "map_discs": "This territory ships no neighbourhood outlines: each disc is a "
                     "neighbourhood at its coordinates.",
        "communes": "By commune",
        "communes_intro": "Share of Q1 households per commune, at the start and at the "
                          "horizon (reference), and each scenario's difference to the "
                          "reference.",
        "col_commune": "Commune", "col_sru": "SRU", "col_start": "Start",
        "col_ref_horizon": "Reference, year {year}",
        "cohort": "Residential trajectories of the households present at the start",
        "cohort_intro": "Where the households present at the start are at the horizon, by "
                        "whether they lived in QPV or not (\"gone\": left the territory or "
                        "died). Each row sums to 100%.",
        "qpv": "QPV", "non_qpv": "non-QPV", "gone": "gone", "at_start": "at start",
        "at_horizon": "at horizon",
        "monitoring": "Allocation monitoring",
        "monitoring_intro": "CIL and ANCOLS monitoring indicators at the horizon (year {year}), "
                            "mean over replicates; counts rescaled to the whole territory.",
        "sensitivity": "Sensitivity analysis",
        "sensitivity_intro": "Sobol' indices: the share of each outcome's variance explained by "
                             "each lever or uncertainty (first order and total), with "
                             "confidence intervals.",
        "s1": "first order S1", "st": "total order ST", "sobol_index": "Sobol' index",
        "mu_star": "mean absolute effect μ*", "col_parameter": "parameter",
        "col_outcome": "outcome",
        "calibration": "Calibration on local data",
        "calibration_intro": "Observed targets and simulated values at the calibrated point "
                             "(mean and 90% interval over replicates).",
        "col_target": "target", "col_observed": "observed", "col_simulated": "simulated",
        "col_simulated_p05": "simulated (5%)", "col_simulated_p95": "simulated (95%)",
        "col_tolerance": "tolerance", "col_within_tolerance": "within tolerance",
        "col_weight": "weight", "col_z": "misfit in tolerances",
        "annex": "Annex",
        "glossary": "Glossary", "assumptions": "Assumptions and limits",
        "sources": "Data sources",
        "validation": "Validation of the territory",
        "validation_intro": "Calibration targets of the territory against the simulated "
                            "reference scenario: mean over the years of each band and 90% "
                            "interval over replicates. Green: the simulated value is within "
                            "the target's tolerance.",
        "col_band": "years {a} to {b}", "col_value": "observed value",
        "validation_missing": "Target indicators missing from the outputs: {names}.",
        "validation_none": "No calibration target found for this territory (targets.toml).",
        "count_note": "counts per year, rescaled to the whole territory (run at scale {scale})",
        "missing_indicators": "Indicators missing from the outputs: {names}. Add them to "
                              "[outputs] indicators in the experiment file and rerun.",
        "missing_some": "Missing from the outputs: {names}.",
        "missing_map": "The maps need Q1 shares per neighbourhood: add \"neighbourhood\" to "
                       "[outputs] scales and \"q1_share\" and \"households\" to [outputs] "
                       "indicators in the experiment file, then rerun.",
        "missing_territory": "The experiment's territory cannot be found ({err}).",
        "missing_cohort": "The trajectory matrices are missing: add the transition_qpv_* "
                          "indicators to [outputs] indicators (or leave the list empty).",
        "single_run": "A single run: no interval and no paired difference; run an experiment "
                      "(mixsim experiment) to compare scenarios.",
        "footer": "Produced by mixsim {version}. Definitions of the indicators and levers: "
                  "the mixsim documentation (indicators, levers, sources).",
        "toc": "Contents",
    },
}

#: Calibration target names shown in the validation annex and the fit table, for the targets
#: that are not report indicators (:data:`INDICATORS`, which :func:`label` reads first).
TARGET_LABELS: dict[str, dict[str, str]] = {
    "vacancy_over_3_months": {"fr": "Vacance de plus de 3 mois",
                              "en": "Vacancy over 3 months"},
    "mean_wait_days_pending": {"fr": "Ancienneté moyenne des demandes en cours (jours)",
                               "en": "Mean age of pending demands (days)"},
    "poverty_rate_qpv": {"fr": "Taux de pauvreté en QPV", "en": "Poverty rate in QPV"},
    "refusing_applicant_share": {"fr": "Demandeurs ayant refusé une proposition",
                                 "en": "Applicants offered a dwelling who refused one"},
    "poverty_rate": {"fr": "Taux de pauvreté", "en": "Poverty rate"},
    "tenants_below_60pct_ceiling_share": {
        "fr": "Locataires sous 60\u202f% du plafond PLUS",
        "en": "Tenants below 60 % of the PLUS ceiling"},
    "sls_payer_share": {"fr": "Locataires au-dessus du seuil du SLS",
                        "en": "Tenants above the SLS threshold"},
    "persons_per_household": {"fr": "Personnes par ménage", "en": "Persons per household"},
    "one_person_share": {"fr": "Ménages d'une personne", "en": "One-person households"},
    "births_per_1000": {"fr": "Naissances pour 1 000 habitants",
                        "en": "Births per 1,000 persons"},
    "deaths_per_1000": {"fr": "Décès pour 1 000 habitants", "en": "Deaths per 1,000 persons"},
    **{f"turnover_t{r}": {"fr": f"Taux de rotation des T{r}{' et plus' if r == 5 else ''}",
                          "en": f"Turnover of T{r}{'+' if r == 5 else ''} dwellings"}
       for r in range(1, 6)},
    **{f"vacancy_t{r}": {"fr": f"Taux de vacance des T{r}{' et plus' if r == 5 else ''}",
                         "en": f"Vacancy of T{r}{'+' if r == 5 else ''} dwellings"}
       for r in range(1, 6)},
}


def text(lang: str, key: str, **values: object) -> str:
    """Return a report text in the language, formatted, with French typography in French."""
    s = TEXT[lang][key].format(**values) if values else TEXT[lang][key]
    return french_typography(s) if lang == "fr" else s


def label(name: str, lang: str) -> str:
    """Return the indicator (or calibration target) label in the language."""
    if name in INDICATORS:
        return getattr(INDICATORS[name], lang)
    if name in TARGET_LABELS:
        return TARGET_LABELS[name][lang]
    return name.replace("_", " ")


def kind(name: str) -> str:
    """Return the unit kind of an indicator (see :class:`Indicator`); ``ratio`` when unknown."""
    return INDICATORS[name].kind if name in INDICATORS else "ratio"


def fmt_value(name: str, v: float | None, lang: str, *, diff: bool = False) -> str:
    """Format a value (or a paired difference when ``diff``) by its indicator's unit kind."""
    k = kind(name)
    if k == "share":
        return fmt_points(v, lang) if diff else fmt_percent(v, lang, 1)
    digits = {"index": 3, "months": 1, "days": 0, "count": 0, "ratio": 1}[k]
    return fmt_number(v, lang, digits, signed=diff)
