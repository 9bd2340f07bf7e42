"""Reading the labels of web and e-mail addresses: dichvucong → dịch vụ công, ubnd → u bê nờ dê.

Addresses are typed without diacritics and without spaces. A label is cut into pieces by dynamic
programming over a lexicon of unaccented keys: Vietnamese words and place names (``data/words.txt``,
``data/places.txt``, keys made by stripping the diacritics), brands (``data/brands.tsv``), the
initialisms of the abbreviation table (spelt, as nobody expands them inside an address) and digit
runs (one or two digits after letters as a number, "covid19"; longer runs one by one). Each piece costs the same, so the fewest pieces win ("dịch vụ công" beats
"dịch" + "vụ" + "công"); a letter that fits no piece is spelt and costs more than any word, so a
label such as "moh" is spelt whole rather than cut into a made-up syllable.
"""

from __future__ import annotations

import functools
import itertools
import re
import unicodedata
from importlib import resources

from broadcaster.normalize.numbers import LETTER_NAMES, read_digits, read_int

_DATA_PACKAGE = "broadcaster.normalize.data"

# Top-level and common second-level domains, spelt or said as a word.
DOMAIN_WORDS: dict[str, str] = {
    "vn": "vê nờ", "gov": "gờ o vê", "com": "com", "net": "nét", "org": "o rờ gờ", "edu": "e đê u",
    "info": "in phô", "io": "i o", "gle": "gờ lờ e", "ly": "lờ i", "gl": "gờ lờ", "www": "vê kép vê kép vê kép", "asia": "a si a", "int": "in",
}

_WORD_COST = 1.0
_LETTER_COST = 3.0  # a spelt letter is a last resort: three of them cost more than one word


def strip_diacritics(text: str) -> str:
    """"Quảng Trị" → "quangtri" style key: no marks, đ → d, lowercase, spaces removed."""
    text = text.lower().replace("đ", "d")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch) and not ch.isspace())


def _lines(name: str) -> list[str]:
    text = resources.files(_DATA_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@functools.cache
def brand_readings() -> dict[str, str]:
    """written (casefolded) → spoken, from data/brands.tsv."""
    rows: dict[str, str] = {}
    for line in _lines("brands.tsv"):
        parts = line.split("\t")
        if len(parts) < 2 or parts[0] == "written":
            continue
        rows[parts[0].casefold()] = parts[1].strip()
    return rows


@functools.cache
def place_names() -> tuple[str, ...]:
    return tuple(_lines("places.txt"))


def listed_words() -> tuple[str, ...]:
    """The Vietnamese words of the lexicons (place names, common words, the table's spoken compounds)."""
    return _listed_words()


@functools.cache
def _listed_words() -> tuple[str, ...]:
    """The Vietnamese words of the lexicons: place names, common words, the table's spoken compounds."""
    from broadcaster.normalize.abbreviations import load_abbreviations

    spoken_forms = [a.spoken for a in load_abbreviations() if re.fullmatch(r"[^\W\d_ ]+(?: [^\W\d_]+)+", a.spoken)]
    return (*place_names(), *_lines("words.txt"), *spoken_forms)


@functools.cache
def _lexicon() -> dict[str, str]:
    """unaccented key → spoken reading (lowercase, accented)."""
    from broadcaster.normalize.abbreviations import load_abbreviations
    from broadcaster.normalize.numbers import spell

    lexicon: dict[str, str] = {}
    # Initialisms first: "ubnd" inside an address is spelt, not expanded.
    for a in load_abbreviations():
        key = a.abbr.lower()
        if re.fullmatch(r"[a-zđ]{2,}", key) and a.mode in ("expand", "expand*", "context"):
            # spelt as typed in the address (no đ there: "dc" is dê xê, whatever ĐC stands for)
            lexicon.setdefault(strip_diacritics(key), spell(strip_diacritics(key).upper()))
        elif re.fullmatch(r"[a-z]{2,}", key) and a.mode in ("word", "letters"):
            # loan acronyms keep the reading they have in running text: "covid19" → cô vít mười chín
            lexicon.setdefault(key, a.spoken)
    # Listed words first (their order decides an ambiguous syllable), then the table's spoken forms,
    # which are the compounds of administrative text ("thủ tục hành chính", "an toàn thực phẩm").
    for word in _listed_words():
        lexicon.setdefault(strip_diacritics(word), word.lower())
    for written, spoken in brand_readings().items():
        key = re.sub(r"[^a-z0-9]", "", strip_diacritics(written))
        if key:
            lexicon[key] = spoken
    # "edu" inside a label keeps its domain reading (vnedu → vê nờ e đê u)
    lexicon.setdefault("edu", DOMAIN_WORDS["edu"])
    return lexicon


@functools.cache
def _spelt_syllables() -> frozenset[str]:
    """Keys spelt as an initialism that are also syllables of the listed words ("ca" → xê a / cá)."""
    from broadcaster.normalize.abbreviations import is_vietnamese_syllable

    lexicon = _lexicon()
    accents = _syllable_accents()
    return frozenset(
        key for key in accents
        if key in lexicon and is_vietnamese_syllable(key) and lexicon[key] not in _listed_word_readings()
    )


@functools.cache
def _listed_word_readings() -> frozenset[str]:
    return frozenset(word.lower() for word in _listed_words())


@functools.cache
def _syllable_accents() -> dict[str, str]:
    """unaccented syllable → its most frequent accented form among the syllables of the listed words.

    A syllable that no entry lists on its own ("cuoc" in "cuocthi") is still read with the tones it
    most often has in the lexicons (cuộc), not typed bare, which an engine reads with no tone at all.
    """
    counts: dict[str, dict[str, int]] = {}
    for word in _listed_words():
        for syllable in word.lower().split():
            key = strip_diacritics(syllable)
            if key != syllable and key.isalpha():
                forms = counts.setdefault(key, {})
                forms[syllable] = forms.get(syllable, 0) + 1
    # the most frequent form; on a tie the one seen first (dicts keep insertion order)
    return {key: max(forms, key=lambda f: forms[f]) for key, forms in counts.items()}


@functools.cache
def _max_key_length() -> int:
    return max(len(k) for k in _lexicon())


@functools.lru_cache(maxsize=2048)
def read_label(label: str) -> str:
    """Spoken form of one address label (the text between dots, slashes, "@" or hyphens).

    First try to cover the whole label with words, allowing a syllable the lexicon does not list to
    be read as typed; only if that fails, spell what no listed word covers.
    """
    low = label.lower()
    if low in DOMAIN_WORDS:
        return DOMAIN_WORDS[low]
    if low.isdecimal():
        return read_digits(low)
    if re.fullmatch(r"[b-df-hj-np-tv-xzđ]{2,}", low) and low not in _lexicon():
        # no vowel and not a listed initialism: letters of a name ("qtv" → quy tê vê), never a word
        # found inside it ("tv" → ti vi)
        return " ".join(LETTER_NAMES.get(ch, ch) for ch in low)
    return _segment(low, spell_letters=False) or _segment(low, spell_letters=True) or low


_UNLISTED_SYLLABLE_COST = 2.0
_SPELT_SYLLABLE_COST = 1.5  # above a listed word, below a syllable the lexicons do not list


def read_listed_words(text: str) -> str | None:
    """The reading of ``text`` if listed words cover it entirely (quangtri → quảng trị), else None."""
    low = text.lower()
    if not low.isalpha():
        return None
    return _segment(low, spell_letters=False, unlisted=False)


def _segment(low: str, spell_letters: bool, unlisted: bool = True) -> str | None:
    from broadcaster.normalize.abbreviations import is_vietnamese_syllable

    lexicon = _lexicon()
    n = len(low)
    longest = _max_key_length()
    # best[i] = (cost, pieces) for low[:i]; a piece is (spoken, retone): retone marks a lone syllable
    # whose tone was taken from the lexicons one syllable at a time, which its neighbours may correct
    best: list[tuple[float, list[tuple[str, bool]]] | None] = [None] * (n + 1)
    best[0] = (0.0, [])
    for i in range(n):
        if best[i] is None:
            continue
        cost_i, pieces_i = best[i]  # type: ignore[misc]
        candidates: list[tuple[int, float, str, bool]] = []
        m = re.match(r"\d+", low[i:])
        if m:
            # One or two digits after letters are a number in the name ("covid19", "phuong5");
            # longer runs are codes, said digit by digit.
            digits = m.group(0)
            said = read_int(int(digits)) if i > 0 and len(digits) <= 2 and not digits.startswith("0") else read_digits(digits)
            candidates.append((i + m.end(), _WORD_COST, said, False))
        else:
            for j in range(i + 1, min(n, i + longest) + 1):
                spoken = lexicon.get(low[i:j])
                if spoken:
                    # Inside a longer label, a spelt initialism that is also a syllable of the listed
                    # words loses a tie to listed words: canhan → cá nhân (two words' worth, one
                    # listed word) rather than xê a + nhân; "catinh" stays xê a tỉnh (công an tỉnh).
                    cost = _SPELT_SYLLABLE_COST if j - i < n and low[i:j] in _spelt_syllables() else _WORD_COST
                    lone = " " not in spoken and spoken in _listed_word_readings() and low[i:j] not in _brand_keys()
                    candidates.append((j, cost, spoken, lone))
                elif unlisted and not spell_letters and 2 <= j - i <= 7 and is_vietnamese_syllable(low[i:j]):
                    syllable = _syllable_accents().get(low[i:j], low[i:j])
                    candidates.append((j, _UNLISTED_SYLLABLE_COST, syllable, True))
            if spell_letters:
                ch = low[i]
                candidates.append((i + 1, _LETTER_COST, LETTER_NAMES.get(ch, ch), False))
        for j, cost, spoken, retone in candidates:
            total = cost_i + cost
            current = best[j]
            if current is None or total < current[0]:
                best[j] = (total, [*pieces_i, (spoken, retone)])
    result = best[n]
    if result is None:
        return None
    return " ".join(_retone(result[1]))


def _retone(pieces: list[tuple[str, bool]]) -> list[str]:
    """Give a lone syllable the tone that makes a known pair with a neighbour (mùa + he → mùa hè).

    One syllable alone gets the tone listed first or seen most often ("he" → hệ); next to "mùa" the
    pair "mùa hè" of the listed words decides. Only a pair the lexicons contain changes a tone, and
    only to a form that makes more known pairs than the current one.
    """
    spoken = [text for text, _ in pieces]
    pairs = _syllable_pairs()
    forms = _syllable_forms()
    for i, (text, retone) in enumerate(pieces):
        if not retone:
            continue
        left = spoken[i - 1].split()[-1] if i > 0 else None
        right = spoken[i + 1].split()[0] if i + 1 < len(spoken) else None

        def known(form: str, left: str | None = left, right: str | None = right) -> int:
            return ((left, form) in pairs) + ((form, right) in pairs)

        candidates = forms.get(strip_diacritics(text), ())
        best = max(candidates, key=known, default=text)
        if known(best) > known(text):
            spoken[i] = best
    return spoken


@functools.cache
def _syllable_pairs() -> frozenset[tuple[str, str]]:
    """Adjacent syllables of the listed words of two syllables or more: (mùa, hè), (hè, xanh)."""
    pairs: set[tuple[str, str]] = set()
    for word in _listed_words():
        syllables = word.lower().split()
        pairs.update(itertools.pairwise(syllables))
    return frozenset(pairs)


@functools.cache
def _syllable_forms() -> dict[str, tuple[str, ...]]:
    """unaccented syllable → every form it has among the syllables of the listed words."""
    forms: dict[str, dict[str, None]] = {}
    for word in _listed_words():
        for syllable in word.lower().split():
            if syllable.isalpha():
                forms.setdefault(strip_diacritics(syllable), {})[syllable] = None
    return {key: tuple(found) for key, found in forms.items()}


@functools.cache
def _brand_keys() -> frozenset[str]:
    return frozenset(re.sub(r"[^a-z0-9]", "", strip_diacritics(written)) for written in brand_readings())
