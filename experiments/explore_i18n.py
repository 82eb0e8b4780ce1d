"""French and English texts of ``mixsim explore``: lever families, labels, help and page texts.

Every lever of :class:`mixsim.model.config.Levers` has a plain-language label and help sentence
in both languages here (a test checks that none is missing when a lever is added). The allowed
values and defaults are not repeated: they come from the lever's own declaration in
``mixsim.model.config``.
"""

from __future__ import annotations

LANGS = ("fr", "en")

#: Lever families (the tables of ``[levers]``), in the order the page shows them.
FAMILIES: dict[str, dict[str, str]] = {
    "quota_q1": {"fr": "Quota de baux hors QPV pour les ménages du 1er quartile",
                 "en": "Quota of leases outside QPV for first-quartile households"},
    "quota_qpv": {"fr": "Objectif de baux en QPV pour les ménages des 2e à 4e quartiles",
                  "en": "Target of leases in QPV for second- to fourth-quartile households"},
    "priority": {"fr": "Ménages prioritaires (DALO, L441-1)",
                 "en": "Priority households (DALO, L441-1)"},
    "reservation": {"fr": "Réservataires et gestion des contingents",
                    "en": "Reservation holders and their management"},
    "cotation": {"fr": "Grille de cotation", "en": "Scoring grid (cotation)"},
    "commission": {"fr": "Commission d'attribution (CALEOL)",
                   "en": "Allocation commission (CALEOL)"},
    "information": {"fr": "Gestion partagée de la demande et information",
                    "en": "Shared demand management and information"},
    "rent": {"fr": "Politique des loyers à la relocation", "en": "Rent policy at re-letting"},
    "over_income": {"fr": "Locataires en dépassement de plafond",
                    "en": "Over-income tenants"},
    "transfers": {"fr": "Mutations internes", "en": "Internal transfers"},
    "construction": {"fr": "Construction neuve de logements sociaux",
                     "en": "New social housing"},
    "renewal": {"fr": "Renouvellement urbain (NPNRU)", "en": "Urban renewal (NPNRU)"},
    "renovation": {"fr": "Réhabilitation et services en QPV",
                   "en": "Renovation and services in QPV"},
    "sales": {"fr": "Vente HLM aux locataires", "en": "Sales to sitting tenants"},
}

#: Per lever (path below ``levers.``): language → (label, help).
LEVERS: dict[str, dict[str, tuple[str, str]]] = {
    "quota_q1.share": {
        "fr": ("Part visée des baux hors QPV", "Part des baux signés hors QPV qui doit aller à "
               "des ménages du 1er quartile ou relogés (la loi dit 25 %)."),
        "en": ("Target share of leases outside QPV", "Share of the leases signed outside QPV "
               "that should go to first-quartile or relocated households (25 % by law).")},
    "quota_q1.enforcement": {
        "fr": ("Application du quota", "aucune : la pratique actuelle ; objectif : bonus de "
               "points tant que le quota n'est pas atteint ; stricte : logements réservés."),
        "en": ("How the quota is enforced", "none: today's practice; target: bonus points "
               "while behind the quota; strict: offers reserved while behind.")},
    "quota_q1.bonus_points": {
        "fr": ("Bonus de points (mode objectif)", "Points ajoutés aux ménages du 1er quartile "
               "tant que le quota est en retard."),
        "en": ("Bonus points (target mode)", "Points given to first-quartile applicants while "
               "the quota is behind.")},
    "quota_qpv.share": {
        "fr": ("Part visée des baux en QPV", "Part des baux signés en QPV qui doit aller à des "
               "ménages des 2e à 4e quartiles (orientation de la CIL, 50 % par défaut)."),
        "en": ("Target share of leases in QPV", "Share of the leases signed in QPV that should "
               "go to second- to fourth-quartile households (CIL orientation, 50 %).")},
    "quota_qpv.enforcement": {
        "fr": ("Application de l'objectif", "aucune, objectif (bonus de points) ou stricte "
               "(logements réservés tant que l'objectif n'est pas atteint)."),
        "en": ("How the target is enforced", "none, target (bonus points) or strict (offers "
               "reserved while behind).")},
    "quota_qpv.bonus_points": {
        "fr": ("Bonus de points (mode objectif)", "Points ajoutés aux ménages des 2e à 4e "
               "quartiles pour un logement en QPV tant que l'objectif est en retard."),
        "en": ("Bonus points (target mode)", "Points given to second- to fourth-quartile "
               "applicants for a dwelling in QPV while the target is behind.")},
    "priority.share": {
        "fr": ("Part due aux ménages prioritaires", "Part des attributions de chaque "
               "réservataire due aux ménages prioritaires (25 % par la loi)."),
        "en": ("Share owed to priority households", "Share of each holder's allocations owed "
               "to priority households (25 % by law).")},
    "priority.enforcement": {
        "fr": ("Application de la part prioritaire", "aucune, objectif (bonus de points, la "
               "pratique actuelle) ou stricte (logements réservés)."),
        "en": ("How the priority share is pursued", "none, target (bonus points, today's "
               "practice) or strict (offers reserved).")},
    "priority.bonus_points": {
        "fr": ("Bonus de points prioritaires", "Points ajoutés aux ménages prioritaires tant "
               "qu'un réservataire est en retard sur sa part."),
        "en": ("Priority bonus points", "Points given to priority households while a holder is "
               "behind its share.")},
    "priority.lost_after_refusal": {
        "fr": ("Perte de la priorité après refus", "Un ménage prioritaire qui refuse l'offre "
               "adaptée du préfet perd sa priorité."),
        "en": ("Priority lost after a refusal", "A priority household that refuses the "
               "préfet's adapted offer loses its priority.")},
    "reservation.management": {
        "fr": ("Gestion des contingents", "en stock : chaque logement appartient à un "
               "réservataire ; en flux : chacun a droit à une part des logements libérés."),
        "en": ("Reservation management", "stock: each dwelling belongs to one holder; flux: "
               "each holder is owed a share of the vacancies.")},
    "reservation.prefet": {
        "fr": ("Part du préfet", "Contingent préfectoral (30 % au plus)."),
        "en": ("Préfet's share", "The préfet's contingent (at most 30 %).")},
    "reservation.action_logement": {
        "fr": ("Part d'Action Logement", "Contingent d'Action Logement (salariés)."),
        "en": ("Action Logement's share", "Action Logement's contingent (employees).")},
    "reservation.prefet_agents": {
        "fr": ("Part des agents de l'État", "Part du contingent préfectoral pour les agents "
               "publics (5 % au plus, R441-5 CCH)."),
        "en": ("State agents' share", "Part of the préfet's contingent for public servants "
               "(at most 5 %, R441-5 CCH).")},
    "reservation.commune": {
        "fr": ("Part des communes", "Contingent des communes (garanties d'emprunt) ; le "
               "bailleur garde le reste."),
        "en": ("Communes' share", "The communes' contingent (loan guarantees); the landlord "
               "keeps the rest.")},
    "reservation.local_preference": {
        "fr": ("Préférence communale", "Points qu'une commune réservataire ajoute à ses propres "
               "habitants."),
        "en": ("Local preference", "Points a commune holder adds for its own residents.")},
    "reservation.handback_months": {
        "fr": ("Délai de remise au bailleur", "Mois pendant lesquels un réservataire sans "
               "candidat garde le logement avant que le bailleur désigne."),
        "en": ("Hand-back delay", "Months a holder without a candidate keeps a vacancy before "
               "the landlord designates.")},
    "cotation.per_month_waited": {
        "fr": ("Points par mois d'attente", "Ancienneté de la demande."),
        "en": ("Points per month waited", "Seniority of the application.")},
    "cotation.priority": {
        "fr": ("Points prioritaires", "Points du statut DALO ou L441-1."),
        "en": ("Priority points", "Points for DALO or L441-1 priority status.")},
    "cotation.homeless": {
        "fr": ("Points sans logement", "Demandeurs hébergés ou sans logement."),
        "en": ("Points without a home", "Applicants who are hosted or homeless.")},
    "cotation.overcrowded": {
        "fr": ("Points suroccupation", "Demandeurs en logement suroccupé."),
        "en": ("Over-crowding points", "Applicants in an over-crowded home.")},
    "cotation.excessive_cost": {
        "fr": ("Points taux d'effort excessif", "Demandeurs dont le logement actuel coûte trop "
               "cher."),
        "en": ("Excessive-cost points", "Applicants whose current home costs too much.")},
    "cotation.separation": {
        "fr": ("Points séparation", "Demandeurs après une séparation."),
        "en": ("Separation points", "Applicants after a separation.")},
    "cotation.transfer": {
        "fr": ("Points mutation", "Locataires du parc social demandant une mutation."),
        "en": ("Transfer points", "Social tenants asking for a transfer.")},
    "cotation.relocation": {
        "fr": ("Points relogement", "Ménages relogés par le renouvellement urbain."),
        "en": ("Relocation points", "Households relocated by urban renewal.")},
    "cotation.refusal_penalty": {
        "fr": ("Pénalité par refus", "Points perdus par proposition adaptée refusée."),
        "en": ("Penalty per refusal", "Points lost per refused suitable offer.")},
    "commission.candidates_per_dwelling": {
        "fr": ("Candidats par logement", "Candidats classés examinés par logement (trois par "
               "la loi)."),
        "en": ("Candidates per dwelling", "Ranked candidates examined per dwelling (three by "
               "law).")},
    "information.wish_breadth": {
        "fr": ("Communes souhaitées", "Nombre de communes qu'un demandeur indique."),
        "en": ("Communes wished", "Number of communes an applicant names.")},
    "information.level": {
        "fr": ("Information des demandeurs", "0 : aujourd'hui ; 1 : pleinement informés "
               "(moins de refus d'offres réalistes)."),
        "en": ("Applicants' information", "0: today; 1: fully informed (fewer refusals of "
               "realistic offers).")},
    "rent.modulation": {
        "fr": ("Modulation des loyers", "Baisse des loyers hors QPV pour les ménages du 1er "
               "quartile à la relocation, compensée en QPV (à recettes constantes)."),
        "en": ("Rent modulation", "Rents outside QPV lowered for first-quartile tenants at "
               "re-letting, compensated inside QPV (revenue-neutral).")},
    "rent.rls": {
        "fr": ("Réduction de loyer de solidarité", "RLS pour les locataires bénéficiaires de "
               "l'APL."),
        "en": ("Solidarity rent reduction (RLS)", "RLS for housing-benefit tenants.")},
    "rent.rls_amount": {
        "fr": ("Montant de la RLS", "Montant mensuel de la RLS."),
        "en": ("RLS amount", "Monthly amount of the RLS.")},
    "over_income.sls_threshold": {
        "fr": ("Seuil du SLS", "Revenu rapporté au plafond au-delà duquel le supplément de "
               "loyer de solidarité est dû (120 %)."),
        "en": ("SLS threshold", "Income over the ceiling above which the rent surcharge (SLS) "
               "is due (120 %).")},
    "over_income.sls_exit_multiplier": {
        "fr": ("Effet du SLS sur les départs", "Multiplicateur de la probabilité de quitter le "
               "parc social des ménages payant le SLS."),
        "en": ("Effect of the SLS on exits", "Multiplier of the chance of leaving social "
               "housing for tenants paying the SLS.")},
    "over_income.loss_threshold": {
        "fr": ("Seuil de perte du droit au maintien", "Revenu rapporté au plafond PLS qui, tenu "
               "assez longtemps, met fin au bail (150 %)."),
        "en": ("Loss-of-tenure threshold", "Income over the PLS ceiling that, held long "
               "enough, ends the lease (150 %).")},
    "over_income.loss_years": {
        "fr": ("Durée avant la perte du droit", "Années au-dessus du seuil avant la fin du "
               "bail."),
        "en": ("Years before the loss", "Years above the threshold before the lease ends.")},
    "over_income.loss_notice_months": {
        "fr": ("Préavis de départ", "Mois laissés au ménage qui perd son droit au maintien "
               "avant de partir."),
        "en": ("Notice before leaving", "Months a household losing its right to stay has "
               "before it leaves.")},
    "over_income.loss_enabled": {
        "fr": ("Appliquer la perte du droit au maintien", "En zone tendue seulement."),
        "en": ("Apply the loss of the right to stay", "Tense zones only.")},
    "over_income.qpv_exempt": {
        "fr": ("Exemption en QPV", "Les locataires des QPV ne paient pas le SLS et gardent leur "
               "droit au maintien."),
        "en": ("QPV exemption", "QPV tenants pay no SLS and keep the right to stay.")},
    "transfers.share": {
        "fr": ("Part visée de mutations", "Part des attributions visée pour les mutations "
               "(0 : pas d'objectif)."),
        "en": ("Target share of transfers", "Share of allocations pursued for transfers (0: "
               "no target).")},
    "transfers.bonus_points": {
        "fr": ("Bonus de points mutation", "Points ajoutés aux demandes de mutation tant que la "
               "part est en retard."),
        "en": ("Transfer bonus points", "Points given to transfer requests while the share is "
               "behind.")},
    "construction.stock_share": {
        "fr": ("Rythme de construction", "Logements sociaux neufs par an, en part du parc "
               "social."),
        "en": ("Construction rate", "New social dwellings per year, as a share of the social "
               "stock.")},
    "construction.units_per_year": {
        "fr": ("Logements neufs supplémentaires", "Logements sociaux neufs de plus par an (à "
               "l'échelle 1)."),
        "en": ("Further new dwellings", "Further new social dwellings per year (at scale 1).")},
    "construction.share_outside_qpv": {
        "fr": ("Part construite hors QPV", "Part des logements neufs construits hors QPV."),
        "en": ("Share built outside QPV", "Share of new dwellings built outside QPV.")},
    "construction.plai_share": {
        "fr": ("Part de PLAI", "Part des logements neufs financés en PLAI (très sociaux)."),
        "en": ("PLAI share", "Share of new dwellings financed as PLAI (lowest rents).")},
    "construction.pls_share": {
        "fr": ("Part de PLS", "Part des logements neufs financés en PLS (loyers les plus "
               "hauts) ; le reste est en PLUS."),
        "en": ("PLS share", "Share of new dwellings financed as PLS (highest rents); the rest "
               "is PLUS.")},
    "construction.sru_catchup": {
        "fr": ("Rattrapage SRU d'abord", "Construire d'abord dans les communes sous le taux "
               "SRU."),
        "en": ("SRU catch-up first", "Build first in communes below the SRU rate.")},
    "renewal.demolitions_per_year": {
        "fr": ("Démolitions par an en QPV", "Logements sociaux démolis par an en QPV (à "
               "l'échelle 1)."),
        "en": ("Demolitions per year in QPV", "Social dwellings demolished per year in QPV "
               "(at scale 1).")},
    "renewal.relocation_priority": {
        "fr": ("Priorité aux relogés", "Les ménages relogés ont les points de relogement et "
               "comptent dans le quota hors QPV."),
        "en": ("Priority for relocated households", "Relocated households get the relocation "
               "points and count in the quota outside QPV.")},
    "renewal.rebuild_outside_share": {
        "fr": ("Reconstitution hors QPV", "Logements reconstruits hors QPV par logement "
               "démoli."),
        "en": ("Rebuilding outside QPV", "Dwellings rebuilt outside QPV per demolished one.")},
    "renewal.rebuild_plai_share": {
        "fr": ("Part de PLAI reconstruits", "Part de PLAI dans la reconstitution (60 % au "
               "moins pour l'ANRU)."),
        "en": ("PLAI share of rebuilt units", "PLAI share of the rebuilt dwellings (at least "
               "60 % for ANRU).")},
    "renewal.diversification_per_year": {
        "fr": ("Diversification en QPV", "Logements privés ou en accession construits par an en "
               "QPV (à l'échelle 1)."),
        "en": ("Diversification in QPV", "Private or owner dwellings built per year in QPV (at "
               "scale 1).")},
    "renovation.investment_per_qpv": {
        "fr": ("Investissement en QPV", "Hausse annuelle de l'attractivité de chaque QPV."),
        "en": ("Investment in QPV", "Yearly rise of the attractiveness of each QPV.")},
    "renovation.years": {
        "fr": ("Durée de l'investissement", "Années pendant lesquelles l'investissement dure."),
        "en": ("Duration of the investment", "Years the investment lasts.")},
    "sales.share_per_year": {
        "fr": ("Ventes par an", "Part du parc social vendue chaque année aux locataires."),
        "en": ("Sales per year", "Share of the social stock sold to sitting tenants per "
               "year.")},
    "sales.where": {
        "fr": ("Lieu des ventes", "partout, hors QPV seulement ou en QPV seulement."),
        "en": ("Where sales happen", "everywhere, outside QPV only or in QPV only.")},
}

#: Labels of the allowed values of the choice levers.
CHOICES: dict[str, dict[str, str]] = {
    "none": {"fr": "aucune", "en": "none"},
    "target": {"fr": "objectif", "en": "target"},
    "strict": {"fr": "stricte", "en": "strict"},
    "stock": {"fr": "en stock", "en": "stock"},
    "flux": {"fr": "en flux", "en": "flux"},
    "all": {"fr": "partout", "en": "everywhere"},
    "outside_qpv": {"fr": "hors QPV", "en": "outside QPV"},
    "qpv": {"fr": "en QPV", "en": "in QPV"},
}

#: Indicator labels (the key trajectories and the comparison table).
INDICATORS: dict[str, dict[str, str]] = {
    "dissimilarity_q1_by_neighbourhoods": {
        "fr": "Ségrégation des ménages Q1 (indice D)", "en": "Segregation of Q1 households (D)"},
    "q1_share_in_qpv": {"fr": "Part des ménages Q1 vivant en QPV",
                        "en": "Share of Q1 households living in QPV"},
    "q1_share_of_qpv_households": {"fr": "Part de ménages Q1 en QPV",
                                   "en": "Q1 share of QPV households"},
    "q1_share_leases_outside_qpv": {"fr": "Baux hors QPV signés par des ménages Q1",
                                    "en": "Leases outside QPV signed by Q1 households"},
    "q234_share_leases_inside_qpv": {"fr": "Baux en QPV signés par des ménages Q2–Q4",
                                     "en": "Leases in QPV signed by Q2–Q4 households"},
    "median_wait_months": {"fr": "Attente médiane des attributaires (mois)",
                           "en": "Median wait of allocated applicants (months)"},
    "exits_to_ownership": {"fr": "Sorties vers l'accession (par an)",
                           "en": "Exits to ownership (per year)"},
    "turnover": {"fr": "Taux de rotation", "en": "Turnover"},
    "vacancy": {"fr": "Taux de vacance", "en": "Vacancy"},
    "refusal_rate": {"fr": "Refus par proposition", "en": "Refusals per offer"},
    "applicants_per_allocation": {"fr": "Demandes par attribution",
                                  "en": "Applicants per allocation"},
    "q1_share": {"fr": "Part de ménages Q1", "en": "Share of Q1 households"},
}

#: Page texts.
TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "title": "mixsim : explorer les leviers",
        "intro": "Changez un levier, lancez : le scénario est comparé aux règles actuelles sur "
                 "les mêmes graines aléatoires ({replicates} réplications, territoire "
                 "« {territory} » à l'échelle {scale}, {years} ans).",
        "levers": "Leviers", "changed": "Leviers modifiés", "none_changed":
            "aucun (règles actuelles)",
        "reset": "Revenir aux règles actuelles", "run": "Lancer", "running": "Calcul en cours…",
        "reference_running": "Calcul des règles actuelles (référence)…",
        "done": "Terminé en {seconds:.1f} s", "invalid": "Combinaison refusée",
        "results": "Comparaison", "live": "Simulation pas à pas", "export": "Enregistrer",
        "today": "Règles actuelles", "scenario": "Scénario", "difference": "Écart",
        "indicator": "Indicateur", "objective": "Objectif CIL", "met": "atteint",
        "not_met": "non atteint", "year": "année",
        "table_intro": "Valeurs à l'horizon (année {year}) : moyenne des réplications ; écart "
                       "apparié au scénario de référence avec son intervalle à 90 %.",
        "trajectories": "Trajectoires", "levels": "niveau",
        "diff_axis": "écart au scénario de référence",
        "map": "Carte des quartiers : part de ménages Q1",
        "map_today": "Règles actuelles, année {year}",
        "map_scenario": "Scénario, année {year}",
        "map_diff": "Écart (scénario − actuel)",
        "map_note_polygons": "Quartiers dessinés d'après leurs contours ; QPV cerclés de noir.",
        "map_note_discs": "Chaque disque est un quartier placé à ses coordonnées (le territoire "
                          "n'a pas de contours) ; QPV cerclés de noir.",
        "no_result": "Lancez un scénario pour voir la comparaison.",
        "save_toml": "Scénario (TOML)", "save_experiment": "Expérience (TOML)",
        "save_html": "Rapport (HTML)",
        "export_intro": "Le fichier de scénario se relance avec « mixsim run FICHIER » ; le "
                        "fichier d'expérience reproduit cette comparaison avec « mixsim "
                        "experiment FICHIER --out DOSSIER » puis « mixsim report DOSSIER ».",
        "live_intro": "Le modèle (un mesa.Model) avance mois par mois sous le scénario "
                      "choisi ; la carte montre la part de ménages Q1 par quartier.",
        "step": "Un mois", "play": "Lecture", "pause": "Pause", "restart": "Recommencer",
        "month": "Mois {month} (année {year}, mois {m})",
        "live_series": "Part des ménages Q1 vivant en QPV",
        "households": "{n} ménages",
        "report_title": "mixsim : scénario exploré",
        "settings": "Réglages",
    },
    "en": {
        "title": "mixsim: explore the levers",
        "intro": "Change a lever, run: the scenario is compared with today's rules on the same "
                 "random seeds ({replicates} replicates, territory “{territory}” at scale "
                 "{scale}, {years} years).",
        "levers": "Levers", "changed": "Levers changed", "none_changed": "none (today's rules)",
        "reset": "Back to today's rules", "run": "Run", "running": "Running…",
        "reference_running": "Running today's rules (the reference)…",
        "done": "Done in {seconds:.1f} s", "invalid": "Combination refused",
        "results": "Comparison", "live": "Step-by-step run", "export": "Save",
        "today": "Today's rules", "scenario": "Scenario", "difference": "Difference",
        "indicator": "Indicator", "objective": "CIL objective", "met": "met",
        "not_met": "not met", "year": "year",
        "table_intro": "Values at the horizon (year {year}): mean over the replicates; paired "
                       "difference to the reference with its 90 % interval.",
        "trajectories": "Trajectories", "levels": "level",
        "diff_axis": "difference to the reference",
        "map": "Neighbourhood map: share of Q1 households",
        "map_today": "Today's rules, year {year}",
        "map_scenario": "Scenario, year {year}",
        "map_diff": "Difference (scenario − today)",
        "map_note_polygons": "Neighbourhoods drawn from their outlines; QPV outlined in black.",
        "map_note_discs": "Each disc is a neighbourhood at its coordinates (the territory has "
                          "no outlines); QPV outlined in black.",
        "no_result": "Run a scenario to see the comparison.",
        "save_toml": "Scenario (TOML)", "save_experiment": "Experiment (TOML)",
        "save_html": "Report (HTML)",
        "export_intro": "The scenario file runs again with “mixsim run FILE”; the experiment "
                        "file reproduces this comparison with “mixsim experiment FILE --out "
                        "FOLDER” then “mixsim report FOLDER”.",
        "live_intro": "The model (a mesa.Model) steps month by month under the chosen "
                      "scenario; the map shows the share of Q1 households per neighbourhood.",
        "step": "One month", "play": "Play", "pause": "Pause", "restart": "Restart",
        "month": "Month {month} (year {year}, month {m})",
        "live_series": "Share of Q1 households living in QPV",
        "households": "{n} households",
        "report_title": "mixsim: explored scenario",
        "settings": "Settings",
    },
}


def lever_label(path: str, lang: str) -> str:
    """Plain-language label of a lever given by its path below ``levers.``."""
    return LEVERS[path][lang][0]


def lever_help(path: str, lang: str) -> str:
    """One-sentence help of a lever."""
    return LEVERS[path][lang][1]


def choice_label(value: str, lang: str) -> str:
    """Label of an allowed value of a choice lever (the value itself when unknown)."""
    return CHOICES.get(value, {}).get(lang, value)


def indicator_label(name: str, lang: str) -> str:
    """Label of an indicator (its name when unknown)."""
    return INDICATORS.get(name, {}).get(lang, name)
