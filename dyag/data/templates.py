"""French question and answer templates, one set per metadata field.

Each field has at least four question phrasings and two answer phrasings. The
first of each is the canonical pair that ``--method simple`` uses; ``augmented``
uses them all. Each field also has held-out ``paraphrases``: question phrasings
that no training set ever uses, worded differently from every training phrasing
(:func:`content_words` shares at most half of a paraphrase's words with any of
them), so that a golden case asked that way measures more than recall of a seen
string. Placeholders are filled from :func:`template_context` (``{de_nom}`` is
``de GIDAF`` or ``d'Agora``).

>>> ctx = template_context({"id": "x", "title": "X", "text": "...", "metadata": {"hebergeur": "OVHcloud Roubaix"}})
>>> FIELD_TEMPLATES["hebergeur"].answers[0].format(**ctx)
"L'hébergeur de X est OVHcloud Roubaix."
>>> FIELD_TEMPLATES["hebergeur"].paraphrases[0].format(**ctx)
'Dans quel centre de données X est-elle installée ?'
>>> sorted(content_words(FIELD_TEMPLATES["hebergeur"].questions[1]))
['heber']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dyag.data.kb import app_name
from dyag.utils.stopwords import QUESTION_STOP_WORDS


@dataclass(frozen=True)
class FieldTemplates:
    """Question and answer phrasings for one field (``{nom}`` is the application).

    ``questions`` are the training phrasings; ``paraphrases`` are held out: never in a
    training row, they ask golden ``paraphrase`` cases.
    """

    questions: tuple[str, ...]
    answers: tuple[str, ...]
    paraphrases: tuple[str, ...] = ()


FIELD_TEMPLATES: dict[str, FieldTemplates] = {
    "description": FieldTemplates(
        questions=(
            "Qu'est-ce {que_nom} ?",
            "À quoi sert {nom} ?",
            "Que fait l'application {nom} ?",
            "Peux-tu me présenter {nom} ?",
            "Présente-moi l'application {nom}.",
        ),
        answers=(
            "{nom_complet} est {description}.",
            "{nom_complet} désigne {description}.",
        ),
        paraphrases=(
            "Décris-moi {nom} en quelques mots.",
            "À quel besoin répond {nom} ?",
            "Quel est le rôle de l'outil {nom} ?",
        ),
    ),
    "sigle": FieldTemplates(
        questions=(
            "Que signifie le sigle {nom} ?",
            "Que veut dire {nom} ?",
            "Quelle est la signification de l'acronyme {nom} ?",
            "{nom}, c'est l'abréviation de quoi ?",
            "Que désigne le sigle {nom} ?",
        ),
        answers=(
            "{nom} signifie « {sigle} ».",
            "Le sigle {nom} veut dire « {sigle} ».",
        ),
        paraphrases=(
            "Quel est le nom complet {de_nom} ?",
            "Que représentent les lettres {de_nom} ?",
            "Comment s'écrit {nom} en toutes lettres ?",
        ),
    ),
    "hebergeur": FieldTemplates(
        questions=(
            "Qui héberge {nom} ?",
            "Où est hébergée l'application {nom} ?",
            "Quel est l'hébergeur {de_nom} ?",
            "{nom} est hébergée par qui ?",
            "Sur quelle infrastructure tourne {nom} ?",
        ),
        answers=(
            "L'hébergeur {de_nom} est {hebergeur}.",
            "{nom} est hébergée par {hebergeur}.",
        ),
        paraphrases=(
            "Dans quel centre de données {nom} est-elle installée ?",
            "Chez quel prestataire se trouvent les serveurs {de_nom} ?",
            "Quel datacenter accueille {nom} ?",
        ),
    ),
    "technologies": FieldTemplates(
        questions=(
            "Quelles technologies utilise {nom} ?",
            "Sur quelles technologies repose {nom} ?",
            "Quelle est la pile technique {de_nom} ?",
            "Avec quoi l'application {nom} est-elle développée ?",
            "Quelles sont les technologies {de_nom} ?",
        ),
        answers=(
            "{nom} utilise les technologies suivantes : {technologies}.",
            "{nom} repose sur {technologies}.",
        ),
        paraphrases=(
            "Avec quels langages et outils {nom} a-t-elle été construite ?",
            "Quels logiciels et frameworks faut-il connaître pour maintenir {nom} ?",
            "Sur quel socle logiciel est bâtie {nom} ?",
        ),
    ),
    "domaine": FieldTemplates(
        questions=(
            "Quel est le domaine {de_nom} ?",
            "À quel domaine appartient {nom} ?",
            "Dans quel domaine métier intervient {nom} ?",
            "{nom} relève de quel domaine ?",
        ),
        answers=(
            "{nom} relève du domaine « {domaine} ».",
            "Le domaine métier {de_nom} est « {domaine} ».",
        ),
        paraphrases=(
            "Dans quel secteur d'activité s'inscrit {nom} ?",
            "Quelle thématique couvre {nom} ?",
            "À quelle politique publique se rattache {nom} ?",
        ),
    ),
    "responsable": FieldTemplates(
        questions=(
            "Qui est le responsable {de_nom} ?",
            "Qui gère l'application {nom} ?",
            "Qui pilote {nom} ?",
            "À qui faut-il s'adresser pour {nom} ?",
            "Qui est responsable de l'application {nom} ?",
        ),
        answers=(
            "Le responsable {de_nom} est {responsable}.",
            "{nom} est pilotée par {responsable}.",
        ),
        paraphrases=(
            "Quelle équipe s'occupe {de_nom} ?",
            "Qui contacter au sujet {de_nom} ?",
            "Quel service est en charge {de_nom} ?",
        ),
    ),
    "criticite": FieldTemplates(
        questions=(
            "{nom} est-elle critique ?",
            "Quel est le niveau de criticité {de_nom} ?",
            "Quelle est la criticité de l'application {nom} ?",
            "Quel niveau de criticité a {nom} ?",
            "L'application {nom} est-elle sensible ?",
        ),
        answers=(
            "Le niveau de criticité {de_nom} est « {criticite} » : {verdict_critique}.",
            "{nom} est classée en criticité « {criticite} » ; {verdict_critique}.",
        ),
        paraphrases=(
            "Une panne {de_nom} aurait-elle des conséquences graves ?",
            "Quelle importance a {nom} pour la continuité du service ?",
            "Quel est l'enjeu d'une indisponibilité {de_nom} ?",
        ),
    ),
    "utilisateurs": FieldTemplates(
        questions=(
            "Combien d'utilisateurs a {nom} ?",
            "Combien de personnes utilisent {nom} ?",
            "Quel est le nombre d'utilisateurs {de_nom} ?",
            "{nom} compte combien d'utilisateurs ?",
        ),
        answers=(
            "{nom} compte {utilisateurs} utilisateurs.",
            "L'application {nom} a {utilisateurs} utilisateurs.",
        ),
        paraphrases=(
            "Combien d'agents se servent {de_nom} ?",
            "Quelle est l'audience {de_nom} ?",
            "Quel est l'effectif des usagers {de_nom} ?",
        ),
    ),
    "version": FieldTemplates(
        questions=(
            "Quelle est la version {de_nom} ?",
            "En quelle version est {nom} ?",
            "Quelle version {de_nom} est en production ?",
            "Quel est le numéro de version actuel {de_nom} ?",
        ),
        answers=(
            "La version actuelle {de_nom} est la {version}.",
            "{nom} est en version {version}.",
        ),
        paraphrases=(
            "Quelle mouture {de_nom} est déployée aujourd'hui ?",
            "Quelle release {de_nom} tourne actuellement ?",
            "Quelle est la dernière livraison {de_nom} ?",
        ),
    ),
    "documentation": FieldTemplates(
        questions=(
            "Où trouve-t-on la documentation {de_nom} ?",
            "Où est la documentation {de_nom} ?",
            "Quelle est l'adresse de la documentation {de_nom} ?",
            "Où puis-je consulter la doc {de_nom} ?",
        ),
        answers=(
            "La documentation {de_nom} est disponible à l'adresse {documentation}.",
            "On trouve la documentation {de_nom} sur {documentation}.",
        ),
        paraphrases=(
            "Existe-t-il un guide d'utilisation pour {nom} ?",
            "Sur quel site peut-on lire le manuel {de_nom} ?",
            "Quel lien donne accès au mode d'emploi {de_nom} ?",
        ),
    ),
}

#: The fields asked about, in a stable order (``description`` is always available).
FIELDS: tuple[str, ...] = tuple(FIELD_TEMPLATES)

#: Words that carry no meaning of their own in a question (articles, pronouns, interrogatives,
#: auxiliaries, and "application"), for :func:`content_words`: dyag's one French stop-word list
#: and "application(s)" (:data:`dyag.utils.stopwords.QUESTION_STOP_WORDS`).
STOP_WORDS = QUESTION_STOP_WORDS

#: Content words are cut to this many letters: a crude stem, so hébergée/hébergeur/héberge match.
STEM_LENGTH = 5


def content_words(phrase: str) -> frozenset[str]:
    """The stemmed content words of a question: lowercased, accents stripped, placeholders and stop words removed.

    >>> sorted(content_words("Où est hébergée l'application {nom} ?"))
    ['heber']
    >>> sorted(content_words("Dans quel centre de données {nom} est-elle installée ?"))
    ['centr', 'donne', 'insta']
    """
    text = re.sub(r"\{[^}]*\}", " ", phrase)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = re.findall(r"[a-z0-9]+", text.replace("œ", "oe"))
    return frozenset(w[:STEM_LENGTH] for w in words if w not in STOP_WORDS)


#: When a record has no ``metadata.description``, its ``text`` is the answer.
TEXT_ANSWER = "{text}"


def format_count(n: int) -> str:
    """French thousands separator (a plain space): ``12000`` -> ``'12 000'``."""
    return f"{n:,}".replace(",", " ")


_ELIDING = set("aeiouyhàâäéèêëîïôöùûüœ")


def elide(word: str, name: str) -> str:
    """``de``/``que`` before a name, elided before a vowel or mute h: ``d'Agora``, ``de GIDAF``."""
    return f"{word[:-1]}'{name}" if name[:1].lower() in _ELIDING else f"{word} {name}"


def join_fr(items: list[str]) -> str:
    """``['Java', 'Oracle', 'JSF']`` -> ``'Java, Oracle et JSF'``."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " et " + items[-1]


def template_context(record: dict) -> dict[str, str]:
    """The placeholder values of one application (only those its metadata has)."""
    metadata = record.get("metadata") or {}
    nom = app_name(record)
    sigle = metadata.get("sigle")
    ctx = {
        "nom": nom,
        "de_nom": elide("de", nom),
        "que_nom": elide("que", nom),
        "nom_complet": f"{nom} ({sigle})" if sigle else nom,
        "text": record["text"].strip(),
    }
    for key in ("sigle", "hebergeur", "domaine", "responsable", "version", "documentation"):
        if metadata.get(key) is not None:
            ctx[key] = metadata[key].strip()
    if metadata.get("description") is not None:
        ctx["description"] = metadata["description"].strip().rstrip(".")
    if metadata.get("technologies") is not None:
        ctx["technologies"] = join_fr([t.strip() for t in metadata["technologies"]])
    if metadata.get("utilisateurs") is not None:
        ctx["utilisateurs"] = format_count(metadata["utilisateurs"])
    if metadata.get("criticite") is not None:
        criticite = metadata["criticite"].strip()
        ctx["criticite"] = criticite
        is_critical = criticite.lower() == "critique"
        ctx["verdict_critique"] = "c'est une application critique" if is_critical else "ce n'est pas une application critique"
    return ctx


def available_fields(record: dict) -> list[str]:
    """Fields that can be asked about this record (``description`` always can)."""
    metadata = record.get("metadata") or {}
    return [f for f in FIELDS if f == "description" or metadata.get(f) is not None]


def answer_templates(record: dict, field: str) -> tuple[str, ...]:
    metadata = record.get("metadata") or {}
    if field == "description" and metadata.get("description") is None:
        return (TEXT_ANSWER,)
    return FIELD_TEMPLATES[field].answers


def field_facts(record: dict, field: str) -> list[str]:
    """Short strings a correct answer about ``field`` must contain (they occur in the record's text)."""
    metadata = record.get("metadata") or {}
    if field == "description":
        return [metadata["sigle"]] if metadata.get("sigle") else []
    if field == "technologies":
        return list(metadata["technologies"])
    if field == "utilisateurs":
        return [format_count(metadata["utilisateurs"])]
    return [str(metadata[field]).strip()]
