"""Text to terms for the similar initiatives, in six languages (en, es, ca, fr, pt, it).

An initiative's text becomes a bag of *terms* that are, as far as this small toolkit
can make them, the same across languages:

1. folding: lower case, accents and cedillas off, Catalan "l·l" as "ll", apostrophes
   and hyphens split words ("d'innovació" → "d", "innovacio");
2. the language of each text is guessed from its function words (the column it was
   written in is the tie-breaker), and the function words of all six languages are
   dropped, as are numbers and one-letter words;
3. light stemming per language, towards one spelling for the six: a shared set of
   spellings (double letters single, "ph" "th" "y" as "f" "t" "i", "ch" as "c" in
   English, French and Italian, no "e" before "s" + consonant at the start of a
   Spanish, Catalan or Portuguese word), then the plural, gender and the common
   derivational endings, each mapped to the same ending in every language
   (-ation/-ación/-ació/-ação/-azione → "a", -ity/-idad/-itat/-ité/-idade/-ità → "",
   -ical/-ico/-ic/-ique → "ic"…). Cognates then meet: "cooperation", "cooperación",
   "cooperació", "coopération", "cooperação" and "cooperazione" are all "coopera";
4. a lexicon of the domain's key terms (data/similarity_lexicon.txt) maps words that
   are not cognates ("vaccine" / "vacuna", "trial" / "assaig" / "essai", "city" /
   "ciutat" / "ville") to one concept, written "~vaccine".

Everything here is deterministic and offline; there is no model to download.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

LANGUAGES = ("en", "es", "ca", "fr", "pt", "it")
LEXICON_FILE = Path(__file__).resolve().parent / "data" / "similarity_lexicon.txt"

# --- 1. Folding --------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]+")
_SPECIAL = str.maketrans(
    {
        "·": "",  # Catalan l·l
        "ŀ": "l",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "đ": "d",
        "ł": "l",
        "\u0131": "i",  # dotless i
    }
)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _marks_and_others(match: re.Match[str]) -> str:
    # After NFKD: accents go; any other character (a dash, a letter of another script)
    # separates words, as the tokenizer keeps ASCII letters and digits only.
    return "".join("" if unicodedata.combining(c) else " " for c in match.group())


def fold(text: str) -> str:
    """Lower case without accents: "Innovació Ciència l·l" → "innovacio ciencia ll"."""
    text = text.lower()
    if text.isascii():
        return text
    return _NON_ASCII.sub(
        _marks_and_others, unicodedata.normalize("NFKD", text.translate(_SPECIAL))
    )


_TOKEN = re.compile(r"[^\W_]+")
_FOLDED: dict[str, str] = {}


def _fold_word(word: str) -> str:
    folded = _FOLDED.get(word)
    if folded is None:
        if len(_FOLDED) > 200_000:
            _FOLDED.clear()
        decomposed = unicodedata.normalize("NFKD", word.translate(_SPECIAL))
        folded = _FOLDED[word] = "".join(c for c in decomposed if c.isascii() and c.isalnum())
    return folded


def words(text: str) -> list[str]:
    """The folded words of a text (letters and digits): the same as the runs of ASCII
    letters and digits of fold(text), but only the words with accents are folded."""
    # (U+0307: the dot that lower() leaves on a Turkish capital İ.)
    lowered = text.lower()
    if not lowered.isascii():
        lowered = lowered.replace("·", "").replace("ŀ", "l").replace("\u0307", "")
    tokens = _TOKEN.findall(lowered)
    return [t if t.isascii() else _fold_word(t) for t in tokens]


# --- 2. Function words and the language of a text ----------------------------------------

_STOPWORDS_TEXT = {
    "en": """a about above after again against all also an and any are as at be because
        been before being below between both but by can could did do does doing down during
        each either every few for from further had has have having he her here hers him his
        how however i if in into is it its itself just may me might more most much must my
        no nor not now of off on once one only or other our ours out over own same shall she
        should since so some such than that the their theirs them then there these they this
        those through thus to too two under until up upon us very via was we well were what
        when where whether which while who whom whose why will with within without would yet
        you your new many among across around per""",
    "es": """a al algo algun alguna algunas alguno algunos ante antes aqui asi aun bajo cada
        como con contra cual cuales cuando de del desde donde dos durante e el ella ellas
        ellos en entre era eran es esa esas ese eso esos esta estaba estan estar estas este
        esto estos fue fueron ha han hace hacia hasta hay la las le les lo los mas me mi
        mientras muy nada ni no nos nosotros nuestra nuestras nuestro nuestros o otra otras
        otro otros para pero poco por porque que quien quienes se sea segun ser si sido sin
        sino sobre su sus tambien tan tanto te tiene tienen todo todos tras tu un una unas
        uno unos usted y ya nuevo nueva nuevos nuevas""",
    "ca": """a al als amb aquell aquella aquelles aquells aquest aquesta aquestes aquests
        aixi aixo cada com contra d de dels des despres dins dos durant el ella elles ells
        els en entre era eren es esta estan fins fa ha han hi ho i la les li lo mes molt
        molta moltes molts nos no nosaltres o on pel pels per pero perque poc que qui s
        sense ser seu seus seva seves si sobre son sota tambien tambe tot tota totes tots
        un una unes uns va van nou nova nous noves""",
    "fr": """a au aux avec ce ceci cela celle celles celui ces cet cette comme dans de des
        deux donc du elle elles en entre est et etaient etait ete etre eu il ils je la le
        les leur leurs lui mais meme mes moi mon ne nos notre nous on ont ou par pas plus
        pour qu que quel quelle quelles quels qui sa sans se ses si son sont sous sur ta tes
        toi ton tous tout toute toutes tres un une vos votre vous y nouveau nouvelle
        nouveaux nouvelles afin ainsi aussi chez""",
    "pt": """a ao aos as ate com como da das de dela delas dele deles depois do dos e ela
        elas ele eles em entre era eram essa essas esse esses esta estao estas este estes
        eu foi foram ha isso isto ja la lhe lhes mais mas me mesmo meu minha muito na nas
        nao nem no nos nossa nossas nosso nossos num numa o os ou para pela pelas pelo pelos
        por qual quando que quem se sem ser seu seus sob sobre sua suas tambem te tem tu um
        uma umas uns voce novo nova novos novas""",
    "it": """a ad agli ai al alla alle allo anche che chi ci come con contro cui da dai dal
        dalla dalle degli dei del della delle dello di dove e ed era erano essere gli ha
        hanno i il in la le lo loro ma mi molto ne negli nei nel nella nelle nello noi non
        nostra nostre nostri nostro o per perche piu po poi quale quali quando quella
        quelle quelli quello questa queste questi questo se sei si sia sono su sua sue sui
        sul sulla sulle suo suoi tra tutti tutto un una uno nuovo nuova nuovi nuove""",
}
STOPWORDS: dict[str, frozenset[str]] = {
    code: frozenset(text.split()) for code, text in _STOPWORDS_TEXT.items()
}
# Words that give a language away (few other languages use them as function words).
_MARKERS: dict[str, frozenset[str]] = {
    code: frozenset(
        word
        for word in words_
        if sum(word in others for others in STOPWORDS.values()) == 1 and len(word) > 1
    )
    for code, words_ in STOPWORDS.items()
}
ALL_STOPWORDS = frozenset().union(*STOPWORDS.values())


_MARKER_OF = {word: code for code, markers in _MARKERS.items() for word in markers}


def detect_language(tokens: list[str], hint: str = "en") -> str:
    """The language among the six whose function words the (first 400) tokens use
    most; `hint` (the column the text is stored in) wins ties and texts too short to
    tell."""
    counts = Counter(_MARKER_OF[t] for t in tokens[:400] if t in _MARKER_OF)
    if not counts:
        return hint if hint in LANGUAGES else "en"
    best = max(counts.values())
    if counts.get(hint, 0) == best or best < 2:
        return hint if hint in LANGUAGES else counts.most_common(1)[0][0]
    # Deterministic among equals: the order of LANGUAGES.
    return next(code for code in LANGUAGES if counts.get(code, 0) == best)


# --- 3. Light stemming towards one spelling -------------------------------------------------

_DOUBLE = re.compile(r"([b-df-hj-np-tv-z])\1")
_ES_INITIAL = re.compile(r"^es(?=[bcdfgjklmnpqrtvz])")

# ending:replacement[:shortest root], longest first within each language; the first
# that leaves a long enough root is applied (by default 3 letters, 4 for endings of
# three letters or more: "calidad" keeps its ending rather than become "cal", like
# "calle"; English "care" keeps its "e" rather than become "car").
_ENDINGS_TEXT = {
    "en": """ations:a ation:a itions:i ition:i utions:u ution:u tions: tion: sions: sion:
        ities: iti: icali:ic ical:ic ics:ic ments:ment ment:ment ives:iv ive:iv ies:i
        ness: ing: ed: es::4 s: e::4""",
    "es": """aciones:a acion:a iciones:i icion:i uciones:u ucion:u ciones: cion: siones:
        sion: idades: idad: icos:ic icas:ic ico:ic ica:ic mientos:ment miento:ment mente:
        ivos:iv ivas:iv ivo:iv iva:iv ias:i ia:i ales:al es: os: as: s: o: a: e:""",
    "ca": """acions:a acio:a icions:i icio:i ucions:u ucio:u cions: cio: sions: sio:
        itats: itat: iques:ic ics:ic ica:ic ments:ment ment:ment ives:iv iva:iv ius:iv iu:iv
        ies:i ia:i es: s: a: e: o:""",
    "fr": """ations:a ation:a itions:i ition:i utions:u ution:u tions: tion: sions: sion:
        ites: ite: iques:ic ique:ic ements:ment ement:ment ments:ment ment:ment ives:iv
        ive:iv ifs:iv if:iv ies:i ie:i aux:al es: s: e: x:""",
    "pt": """acoes:a acao:a icoes:i icao:i ucoes:u ucao:u coes: cao: soes: sao: idades:
        idade: icos:ic icas:ic ico:ic ica:ic mentos:ment mento:ment mente: ivos:iv ivas:iv
        ivo:iv iva:iv ias:i ia:i ais:al es: os: as: s: o: a: e:""",
    "it": """azioni:a azione:a izioni:i izione:i uzioni:u uzione:u zioni: zione: sioni:
        sione: ita: ici:ic iche:ic ico:ic ica:ic menti:ment mento:ment mente: ivi:iv ive:iv
        ivo:iv iva:iv ie:i ia:i ali:al ale:al i: e: o: a:""",
}


def _rule(text: str) -> tuple[str, str, int]:
    ending, replacement, *root = text.split(":")
    return ending, replacement, int(root[0]) if root else (3 if len(ending) < 3 else 4)


ENDINGS: dict[str, tuple[tuple[str, str, int], ...]] = {
    code: tuple(sorted((_rule(rule) for rule in text.split()), key=lambda rule: -len(rule[0])))
    for code, text in _ENDINGS_TEXT.items()
}
# The same, by length of the ending (longest first): one lookup per length.
_BY_LENGTH: dict[str, list[tuple[int, dict[str, tuple[str, int]]]]] = {}
for _code, _rules in ENDINGS.items():
    _lengths: dict[int, dict[str, tuple[str, int]]] = {}
    for _ending, _replacement, _root in _rules:
        _lengths.setdefault(len(_ending), {})[_ending] = (_replacement, _root)
    _BY_LENGTH[_code] = sorted(_lengths.items(), reverse=True)


def stem(word: str, language: str) -> str:
    """One spelling for a folded word in the six languages ("vaccines", "vaccins",
    "vacinas" and "vaccini" → "vacin")."""
    if language in ("es", "ca", "pt"):
        word = _ES_INITIAL.sub("s", word)
    if language in ("en", "fr", "it"):
        word = word.replace("ch", "c")
    word = word.replace("ph", "f").replace("th", "t").replace("y", "i")
    word = _DOUBLE.sub(r"\1", word)
    size = len(word)
    for length, rules in _BY_LENGTH.get(language, _BY_LENGTH["en"]):
        rule = rules.get(word[-length:])
        if rule is not None and size - length >= rule[1]:
            return word[: size - length] + rule[0]
    return word


# --- 4. The lexicon ------------------------------------------------------------------------


def parse_lexicon(text: str) -> dict[str, dict[str, list[str]]]:
    """`concept: en word word | es word | …` lines → {concept: {language: [words]}}."""
    concepts: dict[str, dict[str, list[str]]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        concept, sep, rest = line.partition(":")
        if not sep or not concept.strip():
            raise ValueError(f"similarity lexicon, line {number}: expected 'concept: en …'")
        entry = concepts.setdefault(concept.strip(), {})
        for part in rest.split("|"):
            items = part.split()
            if not items:
                continue
            code, *listed = items
            if code not in LANGUAGES:
                raise ValueError(f"similarity lexicon, line {number}: unknown language {code!r}")
            entry.setdefault(code, []).extend(listed)
    return concepts


@cache
def lexicon() -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """(language, stem) → concept, and stem → concept for the stems only one concept
    has in any language (for text whose language was guessed wrong)."""
    by_language: dict[tuple[str, str], str] = {}
    anywhere: dict[str, set[str]] = {}
    for concept, entry in parse_lexicon(LEXICON_FILE.read_text(encoding="utf-8")).items():
        token = f"~{concept}"
        for code, listed in entry.items():
            for word in listed:
                for part in words(word):
                    key = stem(part, code)
                    by_language.setdefault((code, key), token)
                    anywhere.setdefault(key, set()).add(token)
    unique = {key: next(iter(tokens)) for key, tokens in anywhere.items() if len(tokens) == 1}
    return by_language, unique


def _term(word: str, language: str) -> str:
    """A word's term, "" for a word left out (a function word, a number, one letter)."""
    if len(word) < 2 or word in ALL_STOPWORDS or word.isdigit():
        return ""
    key = stem(word, language)
    by_language, anywhere = lexicon()
    found = by_language.get((language, key)) or anywhere.get(key) or key
    return found if len(found) > 1 and found not in ALL_STOPWORDS else ""


def terms(text: str, language: str, *, detect: bool = True) -> tuple[str, list[str]]:
    """The language of `text` (guessed unless detect=False) and its terms, in order."""
    tokens = words(text)
    if detect:
        language = detect_language(tokens, language)
    return language, [term for term in (_term(t, language) for t in tokens) if term]


# Per language: folded word → term ("" for a word left out); bounded, cleared when full.
_CACHES: dict[str, dict[str, str]] = {code: {} for code in LANGUAGES}
_CACHE_LIMIT = 400_000


def add_terms(fields: list[tuple[str, float]], hint: str, counts: dict[str, float]) -> str:
    """Add the terms of one language version of a text (its fields with their weights)
    to `counts`; return the language it was read in. The fast path of `terms`."""
    tokens = [(words(text), weight) for text, weight in fields]
    language = detect_language([t for found, _weight in tokens for t in found], hint)
    cache = _CACHES[language]
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    for found, weight in tokens:
        for token in set(found).difference(cache):
            cache[token] = _term(token, language)
        for term, count in Counter(map(cache.__getitem__, found)).items():
            if term:
                counts[term] = counts.get(term, 0.0) + count * weight
    return language
