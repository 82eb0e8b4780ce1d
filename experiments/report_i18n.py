"""Labels, texts and number formats of the report in French and English."""

from __future__ import annotations

import math

NBSP = "\u202f"  # narrow no-break space: French thousands separator and before % signs


def fmt_number(v: float, lang: str, digits: int = 2) -> str:
    """Format a number with the language's separators (fr ``1 234,5``, en ``1,234.5``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    s = f"{v:,.{digits}f}"
    if lang == "fr":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", NBSP)
    return s


def fmt_percent(v: float, lang: str, digits: int = 1) -> str:
    """Format a share as a percentage (French: ``25,3 %``)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    num = fmt_number(100.0 * v, lang, digits)
    return f"{num}{NBSP}%" if lang == "fr" else f"{num}%"


LABELS: dict[str, dict[str, str]] = {
    "dissimilarity_q1_by_neighbourhoods": {
        "fr": "Ségrégation des ménages Q1 (indice D, quartiers)",
        "en": "Segregation of Q1 households (D index, neighbourhoods)"},
    "theil_h_quartiles_by_neighbourhoods": {
        "fr": "Ségrégation des quartiles de revenu (H de Theil)",
        "en": "Segregation of income quartiles (Theil's H)"},
    "q1_share_in_qpv": {"fr": "Part des ménages Q1 vivant en QPV",
                        "en": "Share of Q1 households living in QPV"},
    "q1_share_of_qpv_households": {"fr": "Part de ménages Q1 parmi les ménages des QPV",
                                   "en": "Q1 share of QPV households"},
    "q1_share": {"fr": "Part de ménages du 1er quartile",
                 "en": "Share of first-quartile households"},
    "q1_share_leases_outside_qpv": {"fr": "Baux hors QPV signés par des ménages Q1",
                                    "en": "Leases outside QPV signed by Q1 households"},
    "q234_share_leases_inside_qpv": {"fr": "Baux en QPV signés par des ménages Q2 à Q4",
                                     "en": "Leases in QPV signed by Q2–Q4 households"},
    "priority_share": {"fr": "Attributions aux ménages prioritaires",
                       "en": "Allocations to priority households"},
    "transfer_share": {"fr": "Part des mutations dans les attributions",
                       "en": "Transfers among allocations"},
    "turnover": {"fr": "Taux de rotation", "en": "Turnover"},
    "vacancy": {"fr": "Taux de vacance", "en": "Vacancy"},
    "applicants_per_allocation": {"fr": "Demandes par attribution",
                                  "en": "Applicants per allocation"},
    "median_wait_months": {"fr": "Attente médiane des attributaires (mois)",
                           "en": "Median wait of allocated applicants (months)"},
    "refusal_rate": {"fr": "Refus par proposition", "en": "Refusals per offer"},
    "exits_to_ownership": {"fr": "Sorties vers l'accession (par an)",
                           "en": "Exits to ownership (per year)"},
    "exits_to_private_rental": {"fr": "Sorties vers le parc privé (par an)",
                                "en": "Exits to private renting (per year)"},
}

TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "title": "Rapport de simulation", "scenario": "Scénario", "reference": "référence",
        "year": "année", "start": "Situation initiale", "yes": "oui", "no": "non",
        "meta": "{scenarios} scénarios, {replicates} réplications, horizon {years} ans ; "
                "territoire : {territory} (échelle {scale}) ; scénario de référence : "
                "{reference} ; rapport du {date}.",
        "failed_runs": "{n} simulation(s) en échec exclue(s).",
        "comparison": "Comparaison des combinaisons de leviers",
        "comparison_intro": "Valeurs à l'horizon (année {year}) : moyenne sur les réplications, "
                            "intervalle à 90 % entre crochets et, pour chaque scénario, l'écart "
                            "apparié au scénario de référence (Δ). Les cases vertes atteignent "
                            "l'objectif de la CIL, les rouges ne l'atteignent pas.",
        "targets": "Objectifs", "targets_met": "Objectifs atteints",
        "trajectories": "Trajectoires des indicateurs clés",
        "trajectories_intro": "Une courbe par scénario (moyenne des réplications), avec la "
                              "bande entre les 5e et 95e centiles.",
        "map": "Carte schématique des quartiers",
        "map_intro": "Chaque disque est un quartier placé à ses coordonnées, coloré selon la "
                     "part de ménages du premier quartile ; les QPV sont cerclés de noir.",
        "cohort": "Parcours résidentiels des ménages présents au départ",
        "cohort_intro": "Où se trouvent à l'horizon les ménages présents au départ, selon "
                        "qu'ils vivaient en QPV ou hors QPV (« partis » : ont quitté le "
                        "territoire ou sont décédés). Chaque ligne somme à 100 %.",
        "qpv": "QPV", "non_qpv": "hors QPV", "gone": "partis", "at_start": "au départ",
        "at_horizon": "à l'horizon",
        "monitoring": "Suivi des attributions",
        "monitoring_intro": "Indicateurs de suivi de la CIL et de l'ANCOLS à l'horizon "
                            "(année {year}), moyenne des réplications.",
        "sensitivity": "Analyse de sensibilité",
        "sensitivity_intro": "Indices de Sobol' : part de la variance de chaque résultat "
                             "expliquée par chaque levier ou incertitude (premier ordre et "
                             "total), avec leurs intervalles de confiance.",
        "calibration": "Calage sur les données locales",
        "calibration_intro": "Cibles observées et valeurs simulées au point calé.",
        "col_target": "cible", "col_observed": "observé", "col_simulated_mean": "simulé",
        "col_sim_p05": "simulé (5 %)", "col_sim_p95": "simulé (95 %)",
        "col_tolerance": "tolérance", "col_within_tolerance": "dans la tolérance",
        "missing_indicators": "Indicateurs absents des résultats : {names}. Ajoutez-les à "
                              "[outputs] indicators du fichier d'expérience et relancez.",
        "missing_some": "Absents des résultats : {names}.",
        "missing_map": "La carte a besoin des parts de Q1 par quartier : ajoutez "
                       "\"neighbourhood\" à [outputs] scales et \"q1_share\" à [outputs] "
                       "indicators du fichier d'expérience, puis relancez.",
        "missing_territory": "Le territoire de l'expérience est introuvable ({err}).",
        "missing_cohort": "Les matrices de parcours sont absentes : ajoutez les indicateurs "
                          "transition_qpv_* à [outputs] indicators (ou laissez la liste vide).",
        "footer": "Produit par mixsim ; définitions des indicateurs : docs/indicators.md ; "
                  "leviers : docs/levers.md.",
    },
    "en": {
        "title": "Simulation report", "scenario": "Scenario", "reference": "reference",
        "year": "year", "start": "Start", "yes": "yes", "no": "no",
        "meta": "{scenarios} scenarios, {replicates} replicates, {years}-year horizon; "
                "territory: {territory} (scale {scale}); reference scenario: {reference}; "
                "report of {date}.",
        "failed_runs": "{n} failed run(s) left out.",
        "comparison": "Comparison of lever combinations",
        "comparison_intro": "Values at the horizon (year {year}): mean over replicates, 90% "
                            "interval in brackets and, for each scenario, the paired difference "
                            "to the reference scenario (Δ). Green cells meet the CIL target, "
                            "red ones miss it.",
        "targets": "Targets", "targets_met": "Targets met",
        "trajectories": "Trajectories of the key indicators",
        "trajectories_intro": "One line per scenario (mean over replicates) with the band "
                              "between the 5th and 95th percentiles.",
        "map": "Schematic map of neighbourhoods",
        "map_intro": "Each disc is a neighbourhood at its coordinates, coloured by its share "
                     "of first-quartile households; QPV are outlined in black.",
        "cohort": "Residential trajectories of the households present at the start",
        "cohort_intro": "Where the households present at the start are at the horizon, by "
                        "whether they lived in QPV or not (\"gone\": left the territory or "
                        "died). Each row sums to 100%.",
        "qpv": "QPV", "non_qpv": "non-QPV", "gone": "gone", "at_start": "at start",
        "at_horizon": "at horizon",
        "monitoring": "Allocation monitoring",
        "monitoring_intro": "CIL and ANCOLS monitoring indicators at the horizon (year {year}), "
                            "mean over replicates.",
        "sensitivity": "Sensitivity analysis",
        "sensitivity_intro": "Sobol' indices: the share of each outcome's variance explained by "
                             "each lever or uncertainty (first order and total), with "
                             "confidence intervals.",
        "calibration": "Calibration on local data",
        "calibration_intro": "Observed targets and simulated values at the calibrated point.",
        "col_target": "target", "col_observed": "observed", "col_simulated_mean": "simulated",
        "col_sim_p05": "simulated (5%)", "col_sim_p95": "simulated (95%)",
        "col_tolerance": "tolerance", "col_within_tolerance": "within tolerance",
        "missing_indicators": "Indicators missing from the outputs: {names}. Add them to "
                              "[outputs] indicators in the experiment file and rerun.",
        "missing_some": "Missing from the outputs: {names}.",
        "missing_map": "The map needs Q1 shares per neighbourhood: add \"neighbourhood\" to "
                       "[outputs] scales and \"q1_share\" to [outputs] indicators in the "
                       "experiment file, then rerun.",
        "missing_territory": "The experiment's territory cannot be found ({err}).",
        "missing_cohort": "The trajectory matrices are missing: add the transition_qpv_* "
                          "indicators to [outputs] indicators (or leave the list empty).",
        "footer": "Produced by mixsim; indicator definitions: docs/indicators.md; levers: "
                  "docs/levers.md.",
    },
}
