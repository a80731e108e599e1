"""Every string the report shows, one dictionary per language.

French is the default: the team writes its reports in French. Strings that
take values use ``str.format`` fields; the renderer fills them with escaped
values (``Markup(s).format(...)``), so a model name can never inject markup.

>>> strings("en")["winner"]
'Winner and why'
"""

from __future__ import annotations

from dataclasses import dataclass

from dyag.errors import DyagError

#: Metric names that read the same in every language.
NEUTRAL: dict[str, str] = {
    "m_bleu": "BLEU",
    "m_corpus_bleu": "BLEU (corpus)",
    "m_rouge1": "ROUGE-1",
    "m_rouge2": "ROUGE-2",
    "m_rougeL": "ROUGE-L",
    "m_bertscore_f1": "BERTScore F1",
}

FR: dict[str, str] = {
    **NEUTRAL,
    "title": "Rapport de comparaison dyag",
    "generated_by": "Généré par dyag {version} à partir de {n} fichier(s) de résultats.",
    "toc": "Sommaire",
    "incomplete": "Exécution incomplète : {sources}. Les résultats sont partiels et ne valent pas validation.",
    # sections
    "sources": "Fichiers de résultats",
    "config": "Configuration",
    "quantitative": "Tableau quantitatif",
    "charts": "Métriques principales par système",
    "filter_label": "Afficher",
    "filter_all": "toutes",
    "filter_failing": "règle en échec",
    "filter_regressed": "régressées (règle nouvellement en échec)",
    "filter_different": "différentes entre",
    "filter_system_a": "premier système",
    "filter_system_b": "second système",
    "filter_disagree": "en désaccord avec les notes humaines (score ≥ {threshold} contre « correct »)",
    "filter_shown": "{n} question(s) sur {total}",
    "verdict_failed": "Échec : {what}",
    "n_failed_gates": "{n} porte(s) en échec",
    "n_regressions": "{n} régression(s) significative(s)",
    "verdict_passed": "Réussi : {passed} porte(s) franchie(s), aucune régression significative",
    "verdict_none": "Pas de verdict : aucune porte enregistrée, aucune référence comparée",
    "failed_gates": "Portes en échec",
    "gate": "Porte",
    "reason": "Raison",
    "passed_gates_n": "{n} porte(s) franchie(s).",
    "moved_rows": "Ce qui a bougé par rapport à la référence",
    "no_moved_rows": "Rien n'a bougé significativement par rapport à la référence.",
    "no_baseline_compared": "Aucune référence comparée.",
    "tolerance": "Tolérance",
    "gap_title": "Vu à l'entraînement ou reformulé : rappel des faits",
    "gap": "Écart",
    "seen": "vu",
    "paraphrase": "reformulé",
    "stable_rows": "Lignes stables ({n})",
    "details_config": "Configuration, machine et sources",
    "winner": "Gagnant et pourquoi",
    "regression": "Régression par rapport à la référence",
    "questions": "Réponses question par question",
    "perf": "Performances",
    # sources
    "source": "Fichier",
    "started": "Début",
    "finished": "Fin",
    "profile": "Profil",
    "systems": "Systèmes",
    "n_cases": "Cas",
    "status": "État",
    "complete": "complet",
    "incomplete_short": "incomplet",
    "replaced": "{system} : {old} remplacé par {new} (le dernier fichier l'emporte).",
    # configuration
    "cfg_models_data": "Modèles et données",
    "cfg_hyperparameters": "Hyperparamètres",
    "cfg_machine": "Machine",
    "cfg_versions": "Versions",
    "cfg_scoring": "Évaluation",
    "models": "Modèles",
    "dataset": "Jeu de données",
    "dataset_sha256": "SHA-256 du jeu de données",
    "dataset_n": "Nombre d'exemples",
    "platform": "Plateforme",
    "cpu": "Processeur",
    "cores": "Cœurs",
    "torch": "torch",
    "device": "Périphérique",
    "bertscore_model": "Encodeur BERTScore",
    "bertscore_layers": "Couches BERTScore",
    "weights": "Pondérations du score",
    "penalties": "Pénalités par gravité",
    "cfg_rules": "Règles de format",
    "no_config": "Aucune information de configuration dans les résultats.",
    # quantitative table
    "metric": "Métrique",
    "group_training": "Entraînement",
    "group_quality": "Qualité des réponses",
    "group_rules": "Taux de réussite des règles",
    "group_other": "Autres métriques",
    "best_legend": "★ meilleure valeur de la ligne ; entre crochets, l'intervalle de confiance à 95 %. "
    "Les lignes sans sens de comparaison (paramètres, jetons, entropie) ne sont pas marquées.",
    "lower_better": "plus bas = meilleur",
    "best": "meilleure valeur",
    "training_only": "entraînement seul",
    "m_duration_s": "Durée d'entraînement",
    "m_train_loss": "Perte d'entraînement",
    "m_eval_loss": "Perte de validation",
    "m_token_accuracy": "Précision par jeton",
    "m_trainable_params": "Paramètres entraînables",
    "m_samples_per_s": "Exemples/s",
    "m_tokens_per_s": "Jetons/s",
    "m_num_tokens": "Jetons vus",
    "m_entropy": "Entropie",
    "m_score": "Score de qualité /10",
    "m_bertscore_precision": "BERTScore précision",
    "m_bertscore_recall": "BERTScore rappel",
    "m_fact_recall": "Rappel des faits",
    "m_exact_match": "Correspondance exacte",
    "no_systems": "Aucun système dans les résultats.",
    # kinds
    "k_base": "base",
    "k_finetuned": "fine-tuné",
    "k_rag": "RAG",
    "k_rag+finetuned": "RAG + fine-tuné",
    # charts
    "chart_note": "Moyenne par système ; les moustaches montrent l'intervalle de confiance à 95 %.",
    "no_chart": "Aucune métrique principale à afficher.",
    # winner
    "winner_sentence": "{system} obtient le meilleur score moyen : {score}/10{ci}, "
    "soit {margin} point(s) devant {runner} ({runner_score}/10).",
    "winner_alone": "{system} est le seul système évalué : {score}/10{ci}.",
    "winner_tie": "{system} et {runner} sont ex aequo ({score}/10).",
    "ci_overlap": "Les intervalles de confiance se chevauchent : l'écart n'est pas significatif "
    "sur ces {n} questions.",
    "ci_separate": "Les intervalles de confiance ne se chevauchent pas : l'écart est net.",
    "ci_unknown": "Intervalle de confiance indisponible : la significativité de l'écart n'est pas connue.",
    "why_table": "Comparaison avec le second",
    "winner_col": "Gagnant",
    "runner_col": "Second",
    "delta": "Écart",
    "per_model": "Meilleur système par modèle",
    "per_model_item": "{model} : {kind} ({score}/10)",
    "ci_label": "IC95",
    "baseline_is": "Référence : {path}",
    "calibration": "Étalonnage des seuils",
    "splits": "Mémorisation et généralisation",
    "sweep": "Comparaison de recettes",
    "sweep_note": "dyag sweep : chaque recette entraînée puis évaluée, classées par {metric} ({split}), avec "
                  "l'intervalle de confiance à 95 % (bootstrap).",
    "sweep_all": "toutes les questions",
    "sweep_recipe": "Recette",
    "sweep_ci": "IC 95 %",
    "sweep_train_s": "Entraînement (s)",
    "splits_note": "Par partie du jeu de référence : vu (une formulation apprise), paraphrase (un fait appris, "
                   "formulé autrement), non vu (un fait du catalogue absent de l'entraînement), inconnu (une "
                   "application absente du catalogue). L'écart vu − paraphrase du rappel des faits mesure ce qui "
                   "est mémorisé sans être généralisé.",
    "splits_gap": "Écart vu − paraphrase",
    "split_col_fact_recall": "faits",
    "split_col_score": "score /10",
    "split_seen": "vu",
    "split_paraphrase": "paraphrase",
    "split_unseen": "non vu",
    "split_unknown": "inconnu",
    "split_unspecified": "non précisé",
    "catalog": "Catalogue",
    "catalog_sha256": "Catalogue (sha256)",
    "recipe": "Recette",
    "environment_key": "Environnement (clé des références)",
    "cal_note": "Mesuré par make calibrate : la porte rapide rejouée sous des changements sans effet (fausses "
    "alarmes) et sous des dégradations (détections).",
    "cal_benign": "changements sans effet (graine, précision, taille de lot) : fausses alarmes",
    "cal_change": "Changement",
    "cal_result": "Porte en échec",
    "cal_target": "Cible",
    "env_exact": "Même environnement que la référence ({key}).",
    "env_nearest": "Pas de référence pour l'environnement {key} : comparaison avec la plus proche ({baseline_key}), "
    "avec les seules tolérances statistiques.",
    "flips_listed": "Règles nouvellement en échec sur une question (listées, non bloquantes sans --dyag-strict)",
    "loss_not_predictive": "La perte d'entraînement ne prédit pas la qualité : classement par perte "
    "d'entraînement (la plus basse d'abord) : {loss_order} ; classement par score de qualité "
    "du système {kind} (le meilleur d'abord) : {score_order}.",
    "loss_consistent": "Ici, la perte d'entraînement classe les modèles dans le même ordre que "
    "le score de qualité du système {kind} ({order}) ; avec peu de données, seule la qualité "
    "mesurée des réponses fait foi.",
    "no_winner": "Aucun score de qualité : pas de gagnant.",
    # regression
    "baseline": "Référence",
    "current": "Actuel",
    "p_value": "p-valeur",
    "verdict": "Verdict",
    "v_ok": "stable",
    "v_regressed": "régression",
    "v_improved": "amélioration",
    "reg_failed": "Régression détectée pour {model}.",
    "reg_passed": "Aucune régression pour {model}.",
    "new_rule_failures": "Nouveaux échecs de règles (réussies dans la référence)",
    "question_id": "Question",
    "system": "Système",
    "rule": "Règle",
    "no_rows": "Aucune métrique comparable.",
    # questions
    "questions_note": "{n} question(s), {c} réponse(s). Cliquez sur une question pour voir les "
    "réponses côte à côte. ✅ règle respectée, ❌ erreur, ⚠️ avertissement, ℹ️ information ; "
    "le passage fautif est surligné.",
    "failing_questions": "Questions avec au moins une erreur : {n}.",
    "question": "Question",
    "reference": "Réponse attendue",
    "answer_missing": "(pas de réponse)",
    "rules_passed": "{n} règle(s) respectée(s)",
    "score": "score",
    "passed": "respectée",
    "failed_error": "erreur",
    "failed_warning": "avertissement",
    "failed_info": "information",
    # human ratings
    "rate_note": "Notez les réponses (correct, partiel, faux) puis exportez vos notes pour dyag agreement. "
    "Les notes restent dans cette page, et dans le stockage du navigateur quand il le permet.",
    "rate_rater": "Évaluateur",
    "rate_rater_placeholder": "votre nom",
    "rate_rated": "réponse(s) notée(s) sur {total}",
    "rate_export": "Exporter les notes (JSONL)",
    "rate_import": "Importer",
    "rate_imported": "{n} note(s) importée(s), {stale} périmée(s), {unknown} sans réponse ici, "
    "{bad} ligne(s) invalide(s).",
    "rate_unreadable": "Fichier illisible.",
    "rate_group": "Votre note",
    "rate_comment": "commentaire (facultatif)",
    "rating_correct": "correct",
    "rating_partly": "partiel",
    "rating_wrong": "faux",
    "rating_stale": "périmée",
    "rating_stale_title": "Note donnée sur une autre version de cette réponse : ignorée.",
    "rating_stored": "Note enregistrée",
    # agreement with human ratings
    "agreement": "Accord avec les évaluations humaines",
    "agreement_note": "Corrélations de rang entre le score de qualité de dyag et les notes humaines (correct = 1, "
    "partiel = 0,5, faux = 0 ; moyenne des évaluateurs d'une réponse), avec leur intervalle de confiance à 95 % "
    "(bootstrap). Confusion : score ≥ {threshold} (dyag dit correct) contre « noté correct ».",
    "agreement_counts": "{used} note(s) utilisée(s) ; {stale} périmée(s) (réponse modifiée depuis, ignorées) ; "
    "{unmatched} sans réponse dans ces résultats.",
    "agreement_none": "Aucune note ne correspond à une réponse de ces résultats.",
    "overall": "Ensemble",
    "spearman": "Spearman",
    "kendall": "Kendall",
    "c_tp": "VP",
    "c_fp": "FP",
    "c_fn": "FN",
    "c_tn": "VN",
    "c_tp_title": "score ≥ seuil, noté correct",
    "c_fp_title": "score ≥ seuil, noté partiel ou faux",
    "c_fn_title": "score < seuil, noté correct",
    "c_tn_title": "score < seuil, noté partiel ou faux",
    "worst_disagreements": "Plus grands désaccords (|score/10 − note|)",
    "answer": "Réponse",
    "rating": "Note",
    "comment": "Commentaire",
    # perf
    "perf_from": "Mesures de {source}",
    "key": "Clé",
    "value": "Valeur",
}

EN: dict[str, str] = {
    **NEUTRAL,
    "title": "dyag comparison report",
    "generated_by": "Generated by dyag {version} from {n} results file(s).",
    "toc": "Contents",
    "incomplete": "Incomplete run: {sources}. The results are partial and do not count as a pass.",
    "sources": "Results files",
    "config": "Configuration",
    "quantitative": "Quantitative table",
    "charts": "Main metrics per system",
    "filter_label": "Show",
    "filter_all": "all",
    "filter_failing": "failing a rule",
    "filter_regressed": "regressed (a rule newly failing)",
    "filter_different": "different between",
    "filter_system_a": "first system",
    "filter_system_b": "second system",
    "filter_disagree": "disagreeing with the human ratings (score ≥ {threshold} against \"correct\")",
    "filter_shown": "{n} of {total} question(s)",
    "verdict_failed": "Failed: {what}",
    "n_failed_gates": "{n} gate(s) failed",
    "n_regressions": "{n} significant regression(s)",
    "verdict_passed": "Passed: {passed} gate(s) passed, no significant regression",
    "verdict_none": "No verdict: no gate recorded, no baseline compared",
    "failed_gates": "Failed gates",
    "gate": "Gate",
    "reason": "Reason",
    "passed_gates_n": "{n} gate(s) passed.",
    "moved_rows": "What moved against the baseline",
    "no_moved_rows": "Nothing moved significantly against the baseline.",
    "no_baseline_compared": "No baseline compared.",
    "tolerance": "Tolerance",
    "gap_title": "Seen in training or asked another way: fact recall",
    "gap": "Gap",
    "seen": "seen",
    "paraphrase": "paraphrase",
    "stable_rows": "Stable rows ({n})",
    "details_config": "Configuration, machine and sources",
    "winner": "Winner and why",
    "regression": "Regression against the baseline",
    "questions": "Answers question by question",
    "perf": "Performance",
    "source": "File",
    "started": "Started",
    "finished": "Finished",
    "profile": "Profile",
    "systems": "Systems",
    "n_cases": "Cases",
    "status": "Status",
    "complete": "complete",
    "incomplete_short": "incomplete",
    "replaced": "{system}: {old} replaced by {new} (the last file wins).",
    "cfg_models_data": "Models and data",
    "cfg_hyperparameters": "Hyperparameters",
    "cfg_machine": "Machine",
    "cfg_versions": "Versions",
    "cfg_scoring": "Scoring",
    "models": "Models",
    "dataset": "Dataset",
    "dataset_sha256": "Dataset SHA-256",
    "dataset_n": "Examples",
    "platform": "Platform",
    "cpu": "CPU",
    "cores": "Cores",
    "torch": "torch",
    "device": "Device",
    "bertscore_model": "BERTScore encoder",
    "bertscore_layers": "BERTScore layers",
    "weights": "Score weights",
    "penalties": "Penalties by severity",
    "cfg_rules": "Format rules",
    "no_config": "No configuration information in the results.",
    "metric": "Metric",
    "group_training": "Training",
    "group_quality": "Answer quality",
    "group_rules": "Rule pass rates",
    "group_other": "Other metrics",
    "best_legend": "★ best value of the row; in brackets, the 95% confidence interval. "
    "Rows without a direction (parameters, tokens, entropy) are not marked.",
    "lower_better": "lower is better",
    "best": "best value",
    "training_only": "training only",
    "m_duration_s": "Training time",
    "m_train_loss": "Training loss",
    "m_eval_loss": "Validation loss",
    "m_token_accuracy": "Token accuracy",
    "m_trainable_params": "Trainable parameters",
    "m_samples_per_s": "Samples/s",
    "m_tokens_per_s": "Tokens/s",
    "m_num_tokens": "Tokens seen",
    "m_entropy": "Entropy",
    "m_score": "Quality score /10",
    "m_bertscore_precision": "BERTScore precision",
    "m_bertscore_recall": "BERTScore recall",
    "m_fact_recall": "Fact recall",
    "m_exact_match": "Exact match",
    "no_systems": "No systems in the results.",
    "k_base": "base",
    "k_finetuned": "fine-tuned",
    "k_rag": "RAG",
    "k_rag+finetuned": "RAG + fine-tuned",
    "chart_note": "Mean per system; whiskers show the 95% confidence interval.",
    "no_chart": "No main metric to show.",
    "winner_sentence": "{system} has the best mean score: {score}/10{ci}, "
    "{margin} point(s) ahead of {runner} ({runner_score}/10).",
    "winner_alone": "{system} is the only system evaluated: {score}/10{ci}.",
    "winner_tie": "{system} and {runner} are tied ({score}/10).",
    "ci_overlap": "The confidence intervals overlap: the gap is not significant on these {n} questions.",
    "ci_separate": "The confidence intervals do not overlap: the gap is clear.",
    "ci_unknown": "No confidence interval: whether the gap is significant is unknown.",
    "why_table": "Compared with the runner-up",
    "winner_col": "Winner",
    "runner_col": "Runner-up",
    "delta": "Delta",
    "per_model": "Best system per model",
    "per_model_item": "{model}: {kind} ({score}/10)",
    "ci_label": "95% CI",
    "baseline_is": "Baseline: {path}",
    "calibration": "Gate calibration",
    "splits": "Memorisation and generalisation",
    "sweep": "Recipe comparison",
    "sweep_note": "dyag sweep: each recipe trained then evaluated, ranked by {metric} ({split}), with its bootstrap "
                  "95% confidence interval.",
    "sweep_all": "all questions",
    "sweep_recipe": "Recipe",
    "sweep_ci": "95% CI",
    "sweep_train_s": "Training (s)",
    "splits_note": "Per golden split: seen (a trained phrasing), paraphrase (a trained fact asked another way), "
                   "unseen (a catalog fact absent from training), unknown (an application absent from the catalog). "
                   "The seen - paraphrase gap of fact recall measures what is memorised but not generalised.",
    "splits_gap": "Seen - paraphrase gap",
    "split_col_fact_recall": "facts",
    "split_col_score": "score /10",
    "split_seen": "seen",
    "split_paraphrase": "paraphrase",
    "split_unseen": "unseen",
    "split_unknown": "unknown",
    "split_unspecified": "unspecified",
    "catalog": "Catalog",
    "catalog_sha256": "Catalog (sha256)",
    "recipe": "Recipe",
    "environment_key": "Environment (baseline key)",
    "cal_note": "Measured by make calibrate: the quick gate re-run under benign changes (false alarms) and under "
    "degradations (detections).",
    "cal_benign": "benign changes (seed, precision, batch size): false alarms",
    "cal_change": "Change",
    "cal_result": "Gate failed",
    "cal_target": "Target",
    "env_exact": "Same environment as the baseline ({key}).",
    "env_nearest": "No baseline for environment {key}: compared with the nearest one ({baseline_key}), "
    "with statistical tolerances only.",
    "flips_listed": "Rules newly failing on single cases (listed; fatal only with --dyag-strict)",
    "loss_not_predictive": "Training loss does not predict quality: ranking by training loss "
    "(lowest first): {loss_order}; ranking by the quality score of the {kind} system "
    "(best first): {score_order}.",
    "loss_consistent": "Here training loss ranks the models in the same order as the quality "
    "score of the {kind} system ({order}); with little data, only the measured quality of the "
    "answers counts.",
    "no_winner": "No quality score: no winner.",
    "baseline": "Baseline",
    "current": "Current",
    "p_value": "p-value",
    "verdict": "Verdict",
    "v_ok": "stable",
    "v_regressed": "regressed",
    "v_improved": "improved",
    "reg_failed": "Regression detected for {model}.",
    "reg_passed": "No regression for {model}.",
    "new_rule_failures": "New rule failures (rules that passed in the baseline)",
    "question_id": "Question",
    "system": "System",
    "rule": "Rule",
    "no_rows": "No comparable metric.",
    "questions_note": "{n} question(s), {c} answer(s). Click a question to see the answers side "
    "by side. ✅ rule passed, ❌ error, ⚠️ warning, ℹ️ info; the offending passage is highlighted.",
    "failing_questions": "Questions with at least one error: {n}.",
    "question": "Question",
    "reference": "Expected answer",
    "answer_missing": "(no answer)",
    "rules_passed": "{n} rule(s) passed",
    "score": "score",
    "passed": "passed",
    "failed_error": "error",
    "failed_warning": "warning",
    "failed_info": "info",
    "rate_note": "Rate the answers (correct, partly, wrong), then export your ratings for dyag agreement. "
    "Ratings stay in this page, and in the browser's storage where it allows.",
    "rate_rater": "Rater",
    "rate_rater_placeholder": "your name",
    "rate_rated": "answer(s) rated of {total}",
    "rate_export": "Export ratings (JSONL)",
    "rate_import": "Import",
    "rate_imported": "{n} rating(s) imported, {stale} stale, {unknown} without an answer here, {bad} invalid line(s).",
    "rate_unreadable": "Unreadable file.",
    "rate_group": "Your rating",
    "rate_comment": "comment (optional)",
    "rating_correct": "correct",
    "rating_partly": "partly",
    "rating_wrong": "wrong",
    "rating_stale": "stale",
    "rating_stale_title": "Rated on another version of this answer: not used.",
    "rating_stored": "Stored rating",
    "agreement": "Agreement with human ratings",
    "agreement_note": "Rank correlations of dyag's quality score with people's ratings (correct = 1, partly = 0.5, "
    "wrong = 0; the mean of an answer's raters), with their bootstrap 95% confidence intervals. Confusion: "
    "score ≥ {threshold} (dyag says correct) against rated correct.",
    "agreement_counts": "{used} rating(s) used; {stale} stale (the answer changed since; not used); "
    "{unmatched} without an answer in these results.",
    "agreement_none": "No rating matches an answer of these results.",
    "overall": "Overall",
    "spearman": "Spearman",
    "kendall": "Kendall",
    "c_tp": "TP",
    "c_fp": "FP",
    "c_fn": "FN",
    "c_tn": "TN",
    "c_tp_title": "score ≥ threshold, rated correct",
    "c_fp_title": "score ≥ threshold, rated partly or wrong",
    "c_fn_title": "score < threshold, rated correct",
    "c_tn_title": "score < threshold, rated partly or wrong",
    "worst_disagreements": "Largest disagreements (|score/10 − rating|)",
    "answer": "Answer",
    "rating": "Rating",
    "comment": "Comment",
    "perf_from": "Measurements from {source}",
    "key": "Key",
    "value": "Value",
}

STRINGS: dict[str, dict[str, str]] = {"fr": FR, "en": EN}
LANGS: tuple[str, ...] = tuple(STRINGS)


@dataclass(frozen=True)
class NumberStyle:
    """How a language writes numbers: decimal mark, thousands separator, percent sign."""

    decimal: str
    group: str
    percent: str  # a str.format pattern around the number

    def localize(self, text: str) -> str:
        """English-formatted ``text`` (``12,600.5``) in this style."""
        return text.replace(",", "\0").replace(".", self.decimal).replace("\0", self.group)


NUMBERS: dict[str, NumberStyle] = {
    "fr": NumberStyle(decimal=",", group="\u202f", percent="{}\u202f%"),
    "en": NumberStyle(decimal=".", group=",", percent="{}%"),
}


def strings(lang: str) -> dict[str, str]:
    """The UI strings of ``lang`` (``fr`` or ``en``); a ``DyagError`` otherwise."""
    try:
        return STRINGS[lang]
    except KeyError:
        raise DyagError(f"unknown report language {lang!r} (choose from {', '.join(LANGS)})") from None


def number_style(lang: str) -> NumberStyle:
    """The number conventions of ``lang`` (English ones for a language without its own)."""
    return NUMBERS.get(lang, NUMBERS["en"])


def metric_label(t: dict[str, str], name: str) -> str:
    """A column's label: the translation of a known column, else the registry's label, else its name;
    a rule's pass rate (``rule:<name>``) is shown as the rule's name."""
    if name.startswith("rule:"):
        return name[len("rule:"):]
    if f"m_{name}" in t:
        return t[f"m_{name}"]
    from dyag.evaluation.registry import column

    col = column(name)
    return col.label if col is not None and col.label else name


def kind_label(t: dict[str, str], kind: str) -> str:
    """A kind as the page names it; an endpoint's keeps its name: ``fine-tuné @ vllm``."""
    answering, _, endpoint = kind.partition("@")
    label = t.get(f"k_{answering}", answering)
    return f"{label} @ {endpoint}" if endpoint else label
