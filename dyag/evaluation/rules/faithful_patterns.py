"""What :mod:`dyag.evaluation.rules.faithful` looks for: the folding of an answer, the phrasings of
each checked field (regexes), the word tables, and the small parsers of values."""

from __future__ import annotations

import re
from typing import Iterable

from dyag.utils.text import strip_accents

# The answer is read on a folded copy of the same length (accents off, typographic apostrophes and
# no-break spaces made ASCII, HTML tags blanked), so every offset found there is an offset into the
# answer. Application names the catalog knows are masked ("§") once found, so that "6Tzen" never
# reads as a version and a name never ends up inside a value.

_FOLD = {cp: base for cp in range(0xC0, 0x250) if len(base := strip_accents(chr(cp))) == 1 and base != chr(cp)}
_FOLD.update({ord(c): "'" for c in "’‘ʼ`"})
_FOLD.update({ord(c): " " for c in "\u00a0\u202f\u2009\u2007"})
_TAG_RE = re.compile(r"</?[A-Za-z][^<>\n]{0,30}>")
_SENTENCE_END_OR_LINE_RE = re.compile(r"(?<!\bM)[.!?;](?=\s|$)|\n")
_LIST_ITEM_START_RE = re.compile(r"\s*(?:[-*•]|\d+[.)])\s+")
_MASK = "§"
_TOKEN_RE = re.compile(r"[a-z0-9]+")

#: Words of a host that say nothing about which host it is ("le datacenter de la DSI").
_HOST_GENERIC = frozenset(
    "datacenter datacenters data center centre centres serveur serveurs salle salles dsi informatique informatiques "
    "cloud hebergement hebergeur infrastructure infrastructures site sites interne internes ministere ministeres "
    "ministeriel ministerielle etat administration plateforme son sa ses leur leurs notre nos ce cet cette "
    "propre propres prive privee public publique securise securisee souverain souveraine".split())
#: Places and providers a host may be named by, besides those of the catalog's own hosts.
_HOST_PLACES = frozenset(
    "paris lyon lille marseille toulouse bordeaux nantes rennes strasbourg orleans montpellier grenoble dijon "
    "brest rouen metz nancy limoges clermont amiens caen poitiers besancon reims angers roubaix gravelines "
    "bron francfort frankfurt dublin londres amsterdam bruxelles ovh ovhcloud scaleway outscale aws amazon azure "
    "microsoft google gcp atos numspot cloudwatt ionos alibaba".split())
_HOST_VALUE = r"(?P<val>[^.,;:!?()\n«»\"\[\]]{2,80})"
_HOST_CUT_RE = re.compile(
    r"\s(?:et|qui|que|depuis|avec|pour|mais|ou|dont|car|afin|ainsi|alors|lorsque|puis|est|sont|ont|comme"
    r"|contrairement|tandis|utilis\w*|compte|repose|releve|pilot\w*|ger\w*|sous|version|selon)(?=\s|$)|§", re.I)
# (regex, strong): a strong trigger states the host; a weak one ("déployée à") counts only when the
# value names another catalog host or a known place or provider.
_HOST_RES = (
    (re.compile(rf"\bheberg(?:e|ee|es|ees)\s+(?:par|chez|dans|sur|au|aux|a|en)\s+{_HOST_VALUE}", re.I), True),
    (re.compile(rf"\bhebergeur\b[^.;\n]{{0,40}}?(?:\best\b|:)\s*{_HOST_VALUE}", re.I), True),
    (re.compile(rf"\b(?:tourne|deploye\w*|installe\w*|localise\w*|situe\w*|exploite\w*)\s+(?:sur|dans|chez|au|aux|a|en)\s+"
                rf"{_HOST_VALUE}", re.I), False),
)

_VERSION_RES = (
    re.compile(r"\bversion\b(?P<gap>[^.\n\d]{0,45}?)(?:\bv\.?\s*)?(?P<val>\d{1,3}(?: \d{3})+(?!\d)|\d+(?:[.,]\d+)*)", re.I),
    re.compile(r"(?<![\w.])[vV](?P<val>\d+(?:\.\d+)+)\b"),
)
_VERSION_NOT_RE = re.compile(r"\s*(?:utilisat|usager|agent|an\b|ans\b|%|€|euro|jour|mois|personne|/\d|h\b)", re.I)
_VERSION_OTHER_RE = re.compile(
    r"\b(?:prevue?s?|prochaine?s?|future?s?|precedente?s?|ancienne?s?|anterieure?s?|migration|passera|remplacee?"
    r"|jusqu'a|(?:a\s+partir\s+de|depuis|avant|apres)\s+la\s+version|pas|aucune)\b", re.I)

_CIVILITY = r"(?:M|Mme|Mlle|Mr|Dr|Pr|Monsieur|Madame|Mademoiselle)\.?"
_CIVILITY_RE = re.compile(rf"^{_CIVILITY}\s+")
_PERSON = rf"(?P<val>(?:{_CIVILITY}\s+)?[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){{0,3}})"
_OWNER_RES = (
    re.compile(rf"(?i:\bresponsable\b)[^.;\n]{{0,40}}?(?i:\best\b|:)\s*{_PERSON}"),
    re.compile(rf"(?i:\b(?:pilot|ger|supervis|administr|maintenu|porte)\w*\s+par)\s+{_PERSON}"),
    re.compile(rf"(?i:sous\s+la\s+responsabilite\s+d(?:e\s+|'))\s*{_PERSON}"),
    re.compile(rf"(?i:\b(?:chef(?:fe)?\s+de\s+projet|referent\w*|proprietaire|product\s+owner)\b)[^.;\n]{{0,40}}?"
               rf"(?i:\best\b|:)\s*{_PERSON}"),
    re.compile(rf"(?i:\b(?:contacter|contactez|s'adresser\s+a|adressez-vous\s+a)\s+){_PERSON}"),
)

_QUALIFIER = (r"(?:(?P<qual>environ|env\.|pres\s+de|pres\s+d'|plus\s+de|moins\s+de|quelque|autour\s+de|approximativement"
              r"|a\s+peu\s+pres|pas\s+moins\s+de|au\s+moins|au\s+plus|jusqu'a|~|>|<)\s*)?")
_NUMBER = r"(?P<val>\d{1,3}(?:[ .]\d{3})+(?![\d,]\d)|\d+(?:[.,]\d+)?(?:\s*(?:k|mille|millions?)\b)?)"
_USER_NOUN = r"(?:utilisat(?:eur|rice)s?|usagers?)\b"
_USERS_RES = (
    re.compile(rf"{_QUALIFIER}{_NUMBER}[ \t]+(?:d'|de[ \t]+)?{_USER_NOUN}", re.I),
    re.compile(rf"\b(?:compte|recense|denombre|revendique|reunit|rassemble|utilisee?s?\s+par|sert)\s+{_QUALIFIER}{_NUMBER}"
               rf"\s+(?:agents|personnes|comptes|inscrits)\b", re.I),
    re.compile(rf"\bnombre\s+(?:d'|de\s+){_USER_NOUN}[^.;\n\d]{{0,40}}?(?:\best\b|:|s'eleve\s+a|atteint)\s*"
               rf"(?:de\s+|d'|a\s+)?{_QUALIFIER}{_NUMBER}", re.I),
    re.compile(rf"\b{_USER_NOUN}\s*:\s*{_QUALIFIER}{_NUMBER}", re.I),
)
_USERS_PART_RE = re.compile(
    r"\b(?:dont|parmi|sur|par|chaque|soit|hausse\s+de|baisse\s+de|augmentation\s+de|nouveaux)\s+(?:les\s+)?$", re.I)

_CRITICALITY_WORD = (r"(?P<val>critique|tres\s+elevee?|elevee?|haute|forte|majeure|maximale|moyenne|moyen|moderee?"
                     r"|faible|basse|minimale|mineure)")
_CRITICALITY_LEVEL_RE = re.compile(rf"\bcriticite\b(?P<gap>[^.;\n]{{0,40}}?)[\s«\"'(]{_CRITICALITY_WORD}\b", re.I)
_CRITICAL_YES_RE = re.compile(
    r"(?<![\w'])(?:c'est|est|reste|demeure|consideree?\s+comme|classee?)\s+(?:une\s+application\s+|un\s+(?:systeme|service"
    r"|outil|portail|referentiel)\s+)?(?:tres\s+|hautement\s+)?(?P<val>critique)\b", re.I)
_CRITICAL_NO_RE = re.compile(
    r"\b(?P<val>(?:n'est\s+plus|pas|non|peu)\s+(?:une\s+application\s+|un\s+\w+\s+)?(?:tres\s+)?critique|non-critique)\b", re.I)
_NEGATION_RE = re.compile(r"\b(?:pas|non|plus|ni|aucune?)\b", re.I)
#: What each word of the answer allows the catalog's level to be (the catalog's scale:
#: critique > élevée > moyenne > faible).
_CRITICALITY_LEVELS = {
    "critique": {"critique"}, "maximale": {"critique"}, "tres elevee": {"critique", "elevee"},
    "tres eleve": {"critique", "elevee"}, "haute": {"critique", "elevee"}, "forte": {"critique", "elevee"},
    "majeure": {"critique", "elevee"}, "elevee": {"elevee"}, "eleve": {"elevee"}, "moyenne": {"moyenne"},
    "moyen": {"moyenne"}, "moderee": {"moyenne"}, "modere": {"moyenne"}, "faible": {"faible"}, "basse": {"faible"},
    "minimale": {"faible"}, "mineure": {"faible"},
}

_TECH_CONTEXT_RE = re.compile(
    r"\b(?:utilis(?:e|ent|ant)\b(?!\s+par)|technologies?\b|technos?\b|repos\w*\s+sur|s'appui\w*\s+sur|s'appuyant\s+sur"
    r"|developp\w*\s+(?:en|avec|sous|sur)|ecrit\w*\s+en|construit\w*\s+(?:avec|en|sur)|basee?s?\s+sur"
    r"|pile\s+(?:technique|logicielle)|stack|socle\s+technique|frameworks?\b|langages?\b|bases?\s+de\s+donnees"
    r"|tourne\s+sous|programm\w*\s+en|cod\w*\s+en)", re.I)
#: Technologies an answer may name besides the catalog's own, so that an invented stack is caught.
_OTHER_TECHNOLOGIES = (
    "JavaScript", "TypeScript", "Node.js", "NodeJS", ".NET", "ASP.NET", "C#", "C++", "Ruby", "Rust", "Kotlin", "Scala",
    "Perl", "Hibernate", "Struts", "JBoss", "WildFly", "Tomcat", "Nginx", "Apache", "MongoDB", "Cassandra",
    "SQL Server", "SQLite", "Neo4j", "RabbitMQ", "Docker", "Kubernetes", "OpenShift", "Ansible", "Terraform",
    "Jenkins", "jQuery", "Bootstrap", "WordPress", "Joomla", "SharePoint", "Liferay", "Talend", "Hadoop", "Spark",
    "Solr", "Memcached", "Next.js", "Nuxt", "Svelte", "GraphQL", "Visual Basic", "Delphi", "WinDev",
    "Informix", "Sybase", "Teradata", "Power BI", "Kibana", "Logstash", "Nagios", "Centreon",
    "OpenSearch", "Spring", "Spring MVC", "Laminas", "Zend", "CodeIgniter", "Vue", "AngularJS", "Postgres", "JEE",
    "J2EE", "Java EE", "Jakarta EE", "Golang", "Elixir", "Erlang", "Haskell", "Objective-C", "Flutter", "Xamarin",
    "Matlab", "SPSS",
)
_TECH_ALIASES = {"postgres": "postgresql", "vuejs": "vue js", "vue": "vue js", "angularjs": "angular",
                 "angular js": "angular", "jee": "java", "j2ee": "java", "java ee": "java", "jakarta ee": "java",
                 "nodejs": "node js", "springboot": "spring boot", "golang": "go"}
_NOT_A_SUBJECT = frozenset(
    "elle il elles ils cette cet ce son sa ses le la les un une on nous vous je celle celui ceci cela ca leur "
    "application outil portail plateforme logiciel systeme service actuellement aujourd'hui oui non depuis selon "
    "en pour dans sur avec par au aux du des de et mais donc ainsi enfin toutefois cependant egalement voici "
    "reponse hebergeur responsable version technologies criticite utilisateurs domaine documentation nom sigle".split())
_UNKNOWN_SUBJECT_RE = re.compile(  # used with .match(text, sentence_start): anchored there
    r"[\s>*#•-]*(?:(?:L'application|L'outil|Le portail|La plateforme|Le logiciel|Le service)\s+)?"
    r"(?P<name>[A-Z][\w'+-]*)\s+(?:est|a|compte|utilise|repose|s'appuie|tourne|dispose|releve)\b")
_UPPER_WORD_RE = re.compile(r"(?<![\w'-])[A-Z][A-Z0-9]{2,}(?:[-+][A-Za-z0-9]+)?(?![\w-])")
_COMMON_UPPER = frozenset(
    "DSI DGPR DREAL DDT DDTM DGFIP API APIS SSO SIG PDF URL HTTP HTTPS SQL ETL ERP CRM GUI ICPE AIS DNS VPN LDAP "
    "CNIL RGPD RGAA ANSSI PME TPE PLU SNCF MTES MTE OVH AWS GCP DPO FAQ CSV XML JSON REST SOAP TVA SIRET SIREN "
    "INSEE IGN BRGM ADEME ONF OFB CEREMA DGALN DGITM DGEC DGAMPA DIRM DINUM SGAR RH DRH DAF SAAS PAAS IAAS VM "
    "NB NOTE ATTENTION IMPORTANT OK".split())


def _fold_text(text: str) -> str:
    """``text`` with accents off, ASCII apostrophes and spaces, and HTML tags blanked: same length."""
    folded = text.translate(_FOLD)
    return _TAG_RE.sub(lambda m: " " * len(m.group()), folded) if "<" in folded else folded


def _folded_tokens(text: str) -> list[str]:
    return _TOKEN_RE.findall(_fold_text(text).lower())


def _tech_key(name: str) -> str:
    key = " ".join(re.findall(r"[a-z0-9+#]+", _fold_text(name).lower()))
    return _TECH_ALIASES.get(key, _TECH_ALIASES.get(key.replace(" ", ""), key))


def _alternation(names: Iterable[str], before: str, after: str) -> re.Pattern:
    """Any of ``names`` (accents folded) as catalogued, in capitals or capitalised, never in lower case:
    "BALISE", "Balise", never "une balise"; "Agora", "AGORA"."""
    forms = set()
    for name in names:
        name = _fold_text(name.strip())
        if name:
            forms.update({name, name.upper(), name[:1].upper() + name[1:].lower()})
    body = "|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))) or "(?!)"
    return re.compile(f"{before}(?:{body}){after}")


def _version_parts(version: str) -> tuple[str, ...]:
    parts = [p for p in re.split(r"[.,]", version.strip().replace(" ", "")) if p]
    while len(parts) > 1 and parts[-1].strip("0") == "":
        parts.pop()
    return tuple(p.lstrip("0") or "0" for p in parts)


def _parse_count(raw: str) -> float | None:
    raw = raw.strip().lower()
    scale = 1
    for word, factor in (("millions", 1_000_000), ("million", 1_000_000), ("mille", 1_000), ("k", 1_000)):
        if raw.endswith(word):
            raw, scale = raw[: -len(word)].strip(), factor
            break
    if re.fullmatch(r"\d{1,3}(?:[ .]\d{3})+", raw):
        raw = raw.replace(" ", "").replace(".", "")
    try:
        return float(raw.replace(",", ".")) * scale
    except ValueError:
        return None


_KNOWN_LEVELS = frozenset({"critique", "elevee", "moyenne", "faible"})
_HOST_WORDS = ("heberg", "tourne", "deploy", "install", "localis", "situe", "exploite")
_OWNER_WORDS = ("responsab", "par ", "contact", "adress", "chef", "referent", "proprietaire", "owner")
_USERS_WORDS = ("utilisat", "usager", "agents", "personnes", "comptes", "inscrits")
_DIGIT_RE = re.compile(r"\d")
# "GIDAF signifie « ... »", "Le sigle GIDAF veut dire ...": an expansion even when it does not spell
# the acronym (which find_expansions requires of the looser forms).
_MEANS_RE = re.compile(
    r"(?P<name>§+)\s+(?:signifie|veut\s+dire|est\s+l'acronyme\s+de|est\s+le\s+sigle\s+de)\s*:?\s*"
    r"(?:(?P<quote>[«\"])\s*(?P<quoted>[^«»\"\n]{3,140}?)\s*[»\"]|(?P<val>[A-Z][^«»\"\n.;:!?()]{2,140}))")
