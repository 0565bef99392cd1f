"""The built-in score-solicitation phrasings, seeded into `SolicitationPhrase` by migration 0002.

Each pattern is a regular expression over *normalised* text (apps/evidence/gaming_normalize.py): lower case,
accents and Arabic harakat removed, ASCII digits, plain quotes, single spaces. A modest, honest list per language;
HR adds company-specific phrasings in the admin. Reported scores ("the guest gave us a 10", "NPS rose to 45",
"10/10 rooms cleaned") must not match: requests need an imperative or second-person context, bare numbers are
guarded against units.
"""

from __future__ import annotations

from typing import NamedTuple


class BuiltinPhrase(NamedTuple):
    pattern: str
    kind: str  # SolicitationKind value
    language: str  # PhraseLanguage value
    description: str


_STOP = r"[^.!?\n]"  # stays within the sentence
_UNIT_GUARD = (
    r"(?!\s*-?\s*(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|seconds?|secs?|%|percent|per ?cent"
    r"|euros?|dollars?|pounds?|people|persons?|rooms?|tickets?|calls?|items?|times?|more|extra|agents?|staff"
    r"|steps?|of\b|out of (?!10|ten|5|five)|x\b|-?\d))"
)
_NUMBER = rf"(?:10|ten|9|nine|5|five)\b{_UNIT_GUARD}"
_STARS = r"(?:5|five)\s*-?\s*stars?(?!\s*(?:hotels?|resorts?|propert\w*|restaurants?|venues?|accommodation))"
_FRACTION = r"(?:10\s*/\s*10|5\s*/\s*5|(?:10|ten) out of (?:10|ten)|(?:5|five) out of (?:5|five))"
_NAMED = (
    r"(?:top (?:marks|score|rating)|full marks|perfect (?:score|rating|10|ten|mark)"
    r"|maximum (?:score|rating|points|marks)|highest (?:score|rating|mark))"
)
# A score that reads as one anywhere: "a 10", "five stars", "10/10", "top marks".
_STRONG = rf"(?:{_FRACTION}|{_STARS}|{_NAMED}|\b(?:a|an)\s+{_NUMBER})"
_SCORE = rf"(?:(?:a|an|the|full|perfect|straight)\s+)?(?:{_FRACTION}|{_STARS}|{_NAMED}|{_NUMBER}(?:\s+or\s+{_NUMBER})?)"
# Requests are imperative or addressed to the customer; "guests give us a 9 anyway" is a report.
_ASKING = (
    r"(?:^|[.!?,;:\n\"'(]\s*|\b(?:please|pls|plz|kindly|you|u|to|and|just|do|must|should|can|could|will|would"
    r"|'ll|then|so)\s+)"
)
_ANSWERS_EN = (
    r"(?:extremely likely(?: to recommend)?|very likely(?: to recommend)?|highly likely|definitely (?:would )?recommend"
    r"|would definitely recommend|very satisfied|extremely satisfied|completely satisfied|totally satisfied"
    r"|strongly agree|[\"']excellent[\"']|(?:the )?top[\s-]?box|the highest (?:box|option|answer|score)"
    r"|the best (?:option|answer|score)|the (?:green|happy|smiling) (?:face|smiley|button))"
)

# German: umlauts and ß are folded ("über" is "uber", "Straße" is "strasse").
_NUMBER_DE = rf"(?:10|zehn|9|neun|5|funf)\b{_UNIT_GUARD}(?:\s+punkte?n?)?"
_SCORE_DE = (
    rf"(?:10\s*/\s*10|10 von 10|(?:5|funf)\s*-?\s*sterne?n?|volle punktzahl|hochste punktzahl|bestnote|{_NUMBER_DE})"
)
_ANSWERS_DE = (
    r"(?:sehr zufrieden|ausserst zufrieden|vollig zufrieden|ausserst wahrscheinlich|sehr wahrscheinlich"
    r"|auf jeden fall weiterempfehlen|trifft voll (?:und ganz )?zu|stimme voll (?:und ganz )?zu)"
)
_NUMBER_FR = rf"(?:10|dix|9|neuf|5|cinq)\b{_UNIT_GUARD}"
_SCORE_FR = (
    rf"(?:10\s*/\s*10|20\s*/\s*20|10 sur 10|5 sur 5|(?:5|cinq) etoiles|la note maximale|la meilleure note|{_NUMBER_FR})"
)
_ANSWERS_FR = (
    r"(?:tres satisfait\w*|extremement satisfait\w*|tout a fait satisfait\w*|tres probable|extremement probable"
    r"|certainement recommander|tout a fait d'accord)"
)
_NUMBER_ES = rf"(?:10|diez|9|nueve|5|cinco)\b{_UNIT_GUARD}"
_SCORE_ES = (
    rf"(?:10\s*/\s*10|10 de 10|5 de 5|(?:5|cinco) estrellas"
    rf"|(?:la )?(?:nota|puntuacion|calificacion) (?:maxima|mas alta)"
    rf"|{_NUMBER_ES})"
)
_ANSWERS_ES = (
    r"(?:muy satisfech[oa]s?|extremadamente satisfech[oa]s?|totalmente satisfech[oa]s?|muy probable"
    r"|extremadamente probable|definitivamente (?:lo )?recomendaria|totalmente de acuerdo)"
)
# Arabic: hamza forms of alef are plain alef, alef maqsura is yeh, taa marbuta is heh, harakat and tatweel removed.
_SCORE_AR = (
    r"(?:ب\s*)?(?:10\s*/\s*10|10 من 10|5 من 5|(?:5|خمس|خمسه)\s+نجوم|الدرجه الكامله|العلامه الكامله|اعلي تقييم"
    r"|(?:10|9|5|عشره|عشر|تسعه|خمسه)(?![\d])(?!\s*(?:دقايق|دقيقه|ساعات|ساعه|ايام|يوم|اسابيع|%|بالمئه)))"
)
_ANSWERS_AR = (
    r"(?:راض جدا|راضي جدا|راضيه جدا|راضون جدا|راضيا جدا|من المحتمل جدا|محتمل جدا|بالتاكيد ساوصي|اوافق بشده"
    r"|ممتاز)"
)

R, W, C, S = "request", "wish", "condition", "survey_answer"


# Sentence rules are broad: a specific phrasing found in the same text is shown instead (gaming.find_solicitations).
SENTENCE_RULE_PREFIX = r"(?:^|(?<=[.!?;\n]))"


def _sentence(score: str, cue: str, report: str) -> str:
    """A sentence holding a score and an appeal to the reader, and no sign of a report ("gave", "rose", "%").

    The match runs from the sentence's start to the score, so the reviewer sees the appeal and the score together.
    """
    return rf"{SENTENCE_RULE_PREFIX}(?=[^.!?;\n]*(?:{cue}))(?![^.!?;\n]*(?:{report}))[^.!?;\n]*?(?:{score})"


_SENTENCE_EN = _sentence(
    rf"\b(?:a|an|as)\s+(?:(?:perfect|solid|straight|full|big|nice|glowing|clean)\s+)?{_NUMBER}|\b(?:9s|10s|nines|tens)\b"
    rf"|{_FRACTION}|{_STARS}|{_NAMED}|\bthe only score\b",
    r"\b(?:please|pls|you|your|would|could|hope|love|need|want|ask|only|helps?|appreciate|aiming|remember"
    r"|don't forget|anything but|anything less)\b",
    r"\b(?:gave|rated|scored|wrote|rose|fell|went up|went down|unprompted|without being asked|average|said|says"
    r"|share|last (?:month|year|quarter))\b|%|\bfrom \d+ to\b",
)
_SENTENCE_DE = _sentence(
    rf"\b(?:eine|die)\s+(?:glatte\s+|volle\s+)?(?:10|zehn)\b{_UNIT_GUARD}|\bzehner\b|volle punktzahl|hochste punktzahl"
    r"|bestnote|(?:5|funf)\s*-?\s*sterne",
    r"\b(?:bitte|sie|ihr|ihre|ihnen|ware|waren|wurde|wurden|hoffe|hoffen|danke|freuen)\b",
    r"\b(?:gab|gaben|bewertete|bewerteten|vergab|stieg|sank|ohne nachfrage|durchschnitt)\b|%|\bvon \d+ auf\b",
)
_SENTENCE_FR = _sentence(
    rf"\b(?:un|une)\s+(?:petit\s+|beau\s+|joli\s+)?(?:10|dix)\b{_UNIT_GUARD}|la note maximale|la meilleure note"
    r"|10 sur 10|10\s*/\s*10|(?:5|cinq) etoiles",
    r"\b(?:merci|svp|s'il vous plait|vous|votre|nous|mettez|donnez|notez)\b",
    r"\b(?:a donne|ont donne|a note|ont note|sans qu|est passe|sont passes|moyenne)\b|%|\bde \d+ a \d+\b",
)
_SENTENCE_ES = _sentence(
    rf"\bun\s+(?:10|diez)\b{_UNIT_GUARD}|(?:la )?(?:nota|puntuacion|calificacion) (?:maxima|mas alta)|10 de 10"
    r"|10\s*/\s*10|(?:5|cinco) estrellas",
    r"\b(?:por favor|usted|ustedes|su|nos|gracias|le pedimos|te pedimos|ponnos|denos)\b",
    r"\b(?:dio|dieron|sin que|subio|subieron|bajo|bajaron|promedio)\b|%|\bde \d+ a \d+\b",
)
_SENTENCE_AR = _sentence(
    r"الدرجه الكامله|العلامه الكامله|اعلي تقييم|(?:ب)?(?:خمس|5)\s+نجوم|10\s*/\s*10|10 من 10",
    r"تعطينا|اعطنا|تقييمنا|نرجو|من فضلك|لا تنس|نتمني|نامل|منك",
    r"اعطانا|ارتفع|انخفض|متوسط|%",
)

BUILTIN_PHRASES: tuple[BuiltinPhrase, ...] = (
    # English
    BuiltinPhrase(
        rf"{_ASKING}(?:give|giving)\s+(?:us|me|him|her|them|the (?:team|hotel|desk|agent|store|shop))\s+{_SCORE}",
        R, "en", "give us a 10 / please give me five stars",
    ),
    BuiltinPhrase(
        rf"{_ASKING}(?:rate|score|mark|grade|rank|vote)\s+(?:us|me|him|her|them|our \w+|the (?:team|hotel|desk|agent|"
        rf"store|service))\s+(?:as\s+|with\s+|at\s+)?{_SCORE}",
        R, "en", "rate us 10/10 / score us a 9 or 10",
    ),
    BuiltinPhrase(
        r"\bany reason\b[^.!?\n]{0,20}?\b(?:can'?t|cannot|couldn'?t|wouldn'?t|won'?t|would not|could not|will not|not)"
        r"\s+(?:give|rate|score)",
        R, "en", "any reason you can't give me a 10?",
    ),
    BuiltinPhrase(
        r"\b(?:leave|write|post|drop)\s+(?:us\s+|me\s+)?(?:a\s+|an\s+)?(?:5|five)\s*-?\s*star", R, "en",
        "leave us a five-star review",
    ),
    BuiltinPhrase(
        r"\b(?:ask(?:ed|ing|s)?|remind(?:ed|ing|s)?|told|tell|encourag(?:e|ed|es|ing)|urg(?:e|ed|ing))\s+"
        r"(?:the\s+|our\s+|all\s+)?(?:guests?|customers?|clients?|patients?|callers?|users?|them|people)\s+to\s+"
        rf"(?:give|rate|score|mark|tick|select|choose)\b(?:\s+(?:us|me|him|her|them)\s+{_SCORE})?",
        R, "en", "asked customers to rate us",
    ),
    BuiltinPhrase(
        rf"{_ASKING}(?:tick|select|choose|pick|click|circle|put down|put|enter|press)\s+(?:a\s+|an\s+|the\s+)?"
        rf"(?:{_FRACTION}|{_STARS}|{_NUMBER})(?=\s*(?:$|[.!,;)\"']|(?:on|in|for|when|if|please|every|each)\b))",
        R, "en", "tick 10 on the survey",
    ),
    BuiltinPhrase(
        rf"\b(?:please|pls|plz|kindly)\b\s*[,:!-]?\s*(?:{_FRACTION}|{_STARS})|(?:10\s*/\s*10|5\s*/\s*5)\s*"
        rf"(?:please|pls|plz|if you|if u)\b",
        R, "en", "10/10 please / 5/5 if you liked it",
    ),
    BuiltinPhrase(
        rf"\b(?:need|want|expect|count on|counting on)\s+(?:a\s+|an\s+|the\s+)?(?:{_FRACTION}|{_STARS}|{_NAMED}|"
        rf"{_NUMBER}|top[\s-]?box \w+)\s+from\s+(?:you|u)\b",
        R, "en", "we need a 10 from you",
    ),
    BuiltinPhrase(
        rf"\b(?:we|i)(?:'d| would|'ll| will)?\s+(?:really\s+|so\s+|truly\s+|just\s+)?(?:love|like|appreciate|adore|"
        rf"be (?:so |very |really )?(?:grateful|thrilled|delighted|happy|glad))\b{_STOP}{{0,40}}?{_STRONG}",
        W, "en", "we'd love a 10 / I'd really appreciate five stars",
    ),
    BuiltinPhrase(
        rf"\b(?:hop(?:e|es|ed|ing)|wish(?:ing)?|pray(?:ing)?|fingers crossed)\b{_STOP}{{0,40}}?{_STRONG}",
        W, "en", "hoping for five stars",
    ),
    BuiltinPhrase(
        rf"(?:\b(?:a|an)\s+{_NUMBER}|{_STARS}(?:\s+(?:review|rating)s?)?|{_FRACTION})\s+(?:from you\s+)?(?:would|will|"
        r"'d|could)\s+(?:really\s+|truly\s+)?(?:mean|help|make|be (?:great|amazing|fantastic|appreciated|wonderful))",
        W, "en", "a 10 would mean the world to us",
    ),
    BuiltinPhrase(
        rf"\b(?:would|'d|will)\s+(?:be|mean)\b{_STOP}{{0,40}}?\bif (?:you|u)\b{_STOP}{{0,40}}?"
        rf"(?:{_STRONG}|\b{_NUMBER})",
        W, "en", "it would be great if you rated us 10/10",
    ),
    BuiltinPhrase(
        rf"\bif (?:you|u)\b{_STOP}{{0,60}}?\b(?:give|rate|score|mark|tick|select|choose|leave)\b{_STOP}{{0,25}}?"
        rf"(?:{_STRONG}|\b{_NUMBER}|{_ANSWERS_EN})",
        C, "en", "if you were happy, please rate us 10",
    ),
    BuiltinPhrase(
        r"\b(?:anything|everything|any (?:score|rating|mark|answer)|scores?|ratings?|marks?)\s+(?:less than|lower than"
        r"|below|under|short of|other than)\s+(?:a\s+)?(?:10|ten|9|nine|5|five|8|eight|4|four)\b[^.!?\n]{0,40}?"
        r"\b(?:counts? as|is|are|means?|equals?|considered|treated as|hurts?|counts? against|costs?|ruins?)\s+"
        r"(?:a\s+|an\s+|as\s+(?:a\s+)?)?(?:fail|failure|zero|bad|unacceptable|not good|my bonus|our bonus|me|us)\b",
        C, "en", "anything less than 9 counts as a fail",
    ),
    BuiltinPhrase(
        r"\bonly\s+(?:a\s+)?(?:10|ten|9|nine|(?:5|five) stars?|10\s*/\s*10|top[\s-]?box)\s+(?:counts?|matters?|is good"
        r"|is a pass|helps?)",
        C, "en", "only a 10 counts",
    ),
    BuiltinPhrase(
        r"\b(?:a|an|any)\s+(?:9|nine|8|eight|4|four)\b(?:\s+or (?:below|less|lower))?\s+(?:is|counts as|means|equals"
        r"|is considered|is treated as|is basically)\s+(?:a\s+)?(?:fail|failure|zero|bad score)",
        C, "en", "a 9 is considered a fail",
    ),
    BuiltinPhrase(
        rf"\bif (?:you )?(?:can'?t|cannot|couldn'?t|wouldn'?t|won'?t|are not able to|aren'?t able to|would not|could"
        rf" not)\s+(?:give|rate|score)\b{_STOP}{{0,20}}?(?:{_STRONG}|\b{_NUMBER})",
        C, "en", "if you can't give us a 10, call me first",
    ),
    BuiltinPhrase(
        rf"\b(?:my|our) (?:bonus|job|pay|review|target|ranking)\b{_STOP}{{0,40}}?\b(?:depends on|rides on|relies on"
        rf"|needs)\b{_STOP}{{0,30}}?(?:{_STRONG}|your (?:score|rating|survey|review)|{_ANSWERS_EN})",
        C, "en", "my bonus depends on your score",
    ),
    BuiltinPhrase(
        rf"\b(?:tick|select|choose|pick|click|mark|circle|check|answer|put(?: down)?|respond(?: with)?|reply(?: with)?"
        rf"|say|write|go for|vote(?: for)?|press|hit)\s+(?:(?:that )?(?:you(?:'re| are| were| would be)|we(?:'re| are)"
        rf" )\s*)?[\"']?{_ANSWERS_EN}",
        S, "en", "tick 'very satisfied' / answer 'extremely likely to recommend'",
    ),
    BuiltinPhrase(
        r"\b(?:need|want|expect|count on|looking for|hoping for|ask(?:ing)? for)\b[^.!?\n]{0,20}?\btop[\s-]?box\b",
        S, "en", "we need top-box scores from you",
    ),
    BuiltinPhrase(_SENTENCE_EN, R, "en", "a perfect 10 is all I ask (a score and an appeal in one sentence)"),
    # German
    BuiltinPhrase(_SENTENCE_DE, R, "de", "Ein Zehner wäre super (Note und Bitte in einem Satz)"),
    BuiltinPhrase(
        rf"\b(?:geben|gib|gebt|vergeben|vergib)\s+(?:sie\s+)?(?:uns|mir)\s+(?:bitte\s+)?(?:eine\s+|die\s+)?{_SCORE_DE}",
        R, "de", "Geben Sie uns eine 10",
    ),
    BuiltinPhrase(
        rf"\b(?:bewerten|bewerte|bewertet|benoten)\s+(?:sie\s+)?(?:uns|mich)\s+(?:bitte\s+)?(?:mit\s+)?"
        rf"(?:einer\s+|der\s+)?{_SCORE_DE}",
        R, "de", "Bitte bewerten Sie uns mit 10 Punkten",
    ),
    BuiltinPhrase(
        rf"\b(?:wir|ich)\s+(?:wurden|wurde|freuen|freue)\b{_STOP}{{0,40}}?\b(?:uber|auf)\s+(?:eine\s+|die\s+)?"
        rf"{_SCORE_DE}",
        W, "de", "Wir würden uns über eine 10 freuen",
    ),
    BuiltinPhrase(
        rf"\b(?:wir hoffen|ich hoffe|hoffentlich)\b{_STOP}{{0,40}}?{_SCORE_DE}", W, "de", "Wir hoffen auf 5 Sterne"
    ),
    BuiltinPhrase(
        r"\b(?:alles|jede (?:bewertung|note|antwort)|jeder wert)\s+(?:unter|unterhalb von|weniger als)\s+(?:einer\s+)?"
        r"\d+\b[^.!?\n]{0,40}?\b(?:gilt|zahlt|ist)\b[^.!?\n]{0,20}?(?:nicht bestanden|durchgefallen|fehlschlag"
        r"|schlecht|null|negativ|misserfolg)",
        C, "de", "Alles unter 9 gilt als nicht bestanden",
    ),
    BuiltinPhrase(
        rf"\bwenn sie (?:zufrieden|glucklich)\s+(?:waren|sind)\b{_STOP}{{0,40}}?{_SCORE_DE}", C, "de",
        "Wenn Sie zufrieden waren, geben Sie uns eine 10",
    ),
    BuiltinPhrase(
        rf"\b(?:kreuzen|kreuze|wahlen|wahle|klicken|klicke|antworten|antworte|markieren|sagen)\b{_STOP}{{0,25}}?"
        rf"{_ANSWERS_DE}|{_ANSWERS_DE}[\"']?\s+(?:ankreuzen|anklicken|auswahlen|angeben|wahlen|ankreuzt)",
        S, "de", "Bitte kreuzen Sie 'sehr zufrieden' an",
    ),
    # French
    BuiltinPhrase(_SENTENCE_FR, R, "fr", "Un petit 10 nous ferait plaisir (note et appel dans une phrase)"),
    BuiltinPhrase(
        rf"\b(?:donnez|donne|donner|mettez|mets|attribuez)[\s-]*(?:nous|moi)\s+(?:un\s+|une\s+|la\s+)?{_SCORE_FR}",
        R, "fr", "Donnez-nous un 10",
    ),
    BuiltinPhrase(
        rf"\b(?:(?:nous|me)\s+(?:noter|evaluer|donner|mettre|attribuer)|(?:notez|evaluez)[\s-]*(?:nous|moi))\s+"
        rf"(?:a\s+|avec\s+)?(?:un\s+|une\s+|la\s+)?{_SCORE_FR}",
        R, "fr", "Merci de nous noter 10/10",
    ),
    BuiltinPhrase(
        rf"\b(?:nous aimerions|j'aimerais|nous adorerions|nous serions ravis|je serais ravie?|nous esperons|j'espere"
        rf"|on espere|nous souhaitons|nous comptons sur)\b{_STOP}{{0,40}}?{_SCORE_FR}",
        W, "fr", "Nous aimerions beaucoup un 10",
    ),
    BuiltinPhrase(
        rf"\bsi vous (?:etes|avez ete|etiez)\s+(?:satisfait|content|heureux)\w*\b{_STOP}{{0,40}}?{_SCORE_FR}",
        C, "fr", "Si vous êtes satisfait, mettez-nous 10",
    ),
    BuiltinPhrase(
        r"\b(?:tout ce qui est|toute note|toute reponse|toute evaluation)\s+(?:en dessous de|inferieure? a|de moins de"
        r"|sous)\s+(?:un\s+)?\d+\b[^.!?\n]{0,40}?\b(?:compte|est|vaut|equivaut)\b[^.!?\n]{0,20}?(?:echec|zero"
        r"|mauvais|negati)",
        C, "fr", "Tout ce qui est en dessous de 9 compte comme un échec",
    ),
    BuiltinPhrase(
        rf"\b(?:cochez|coche|cocher|choisissez|choisir|selectionnez|repondez|repondre|indiquez|dites|cliquez sur"
        rf"|mettez)\b{_STOP}{{0,25}}?{_ANSWERS_FR}",
        S, "fr", "Cochez « très satisfait »",
    ),
    # Spanish
    BuiltinPhrase(_SENTENCE_ES, R, "es", "Un 10 nos ayudaría (nota y petición en una frase)"),
    BuiltinPhrase(
        rf"\b(?:d[ae]nos|d[ae]me|denme|dennos|ponganos|ponnos|pongannos)\s+(?:un\s+|una\s+|la\s+)?{_SCORE_ES}",
        R, "es", "Denos un 10",
    ),
    BuiltinPhrase(
        rf"\b(?:califiquenos|calificanos|puntuenos|puntuanos|valorenos|valoranos|evaluenos|evaluanos|calificarnos"
        rf"|puntuarnos|valorarnos)\s+(?:con\s+)?(?:un\s+|una\s+)?{_SCORE_ES}",
        R, "es", "Califíquenos con un 10",
    ),
    BuiltinPhrase(
        rf"\b(?:nos encantaria|me encantaria|esperamos|espero|ojala|nos gustaria|me gustaria|contamos con)\b"
        rf"{_STOP}{{0,40}}?{_SCORE_ES}",
        W, "es", "Nos encantaría un 10",
    ),
    BuiltinPhrase(
        rf"\bsi (?:quedo|quedaste|esta|estas|estuvo|ha quedado)\s+(?:satisfech|content|feliz)\w*\b{_STOP}{{0,40}}?"
        rf"{_SCORE_ES}",
        C, "es", "Si quedó satisfecho, denos un 10",
    ),
    BuiltinPhrase(
        r"\b(?:cualquier|toda)\s+(?:nota|puntuacion|calificacion|cosa|respuesta)\s+(?:menor|inferior|por debajo)\s+"
        r"(?:de|a)\s+(?:un\s+)?\d+\b[^.!?\n]{0,40}?\b(?:cuenta|es|vale|equivale|se considera)\b[^.!?\n]{0,20}?"
        r"(?:fallo|fracaso|suspenso|cero|malo|negativ)",
        C, "es", "Cualquier nota menor de 9 cuenta como fallo",
    ),
    BuiltinPhrase(
        rf"\b(?:marque|marca|marquen|seleccione|selecciona|elija|elige|responda|responde|conteste|contesta|diga|di"
        rf"|ponga|pon)\b{_STOP}{{0,25}}?{_ANSWERS_ES}",
        S, "es", "Marque 'muy satisfecho'",
    ),
    # Arabic
    BuiltinPhrase(_SENTENCE_AR, R, "ar", "لا تنس أن تعطينا الدرجة الكاملة"),
    BuiltinPhrase(
        rf"(?:اعطنا|اعطونا|اعطني|اعطيني|امنحنا|امنحونا|قيمنا|قيمونا|قيموا|تقييمنا|ضع لنا|ضعوا لنا)"
        rf"\s*(?:تقييم\s*)?{_SCORE_AR}",
        R, "ar", "أعطنا 10 / قيّمونا بـ10",
    ),
    BuiltinPhrase(
        rf"(?:نتمني|نامل|اتمني|نرجو|يسعدنا|سيسعدنا|نود)\b{_STOP}{{0,40}}?{_SCORE_AR}", W, "ar", "نتمنى أن تعطينا 10",
    ),
    BuiltinPhrase(
        r"(?:اي|كل)\s+(?:تقييم|درجه|علامه|نتيجه)\s+(?:اقل من|دون|تحت)\s+\d+[^.!?\n]{0,40}?(?:فشل|راسب|سيء|سيئ|صفر"
        r"|سلبي)",
        C, "ar", "أي تقييم أقل من 9 يعتبر فشلاً",
    ),
    BuiltinPhrase(
        rf"اذا كنت (?:راضيا|راض|راضي|سعيدا|سعيد)\b{_STOP}{{0,40}}?{_SCORE_AR}", C, "ar", "إذا كنت راضياً فأعطنا 10",
    ),
    BuiltinPhrase(
        rf"(?:اختر|اختاروا|اختار|ضع علامه علي|ضعوا علامه علي|اجب|اجيبوا|قل|قولوا|حدد|حددوا)\s*(?:ب\s*)?[\"']?"
        rf"{_ANSWERS_AR}",
        S, "ar", "اختر «راضٍ جدًا»",
    ),
)  # fmt: skip

# Texts the admin's "matches among samples" shows a phrase against: what it should and should not catch.
SAMPLE_TEXTS: tuple[str, ...] = (
    "Please give us a 10 on the survey.",
    "We'd love a 10 if you were happy with your stay.",
    "If you were happy, please rate us 10/10.",
    "Anything less than 9 counts as a fail for us.",
    "When the survey comes, tick 'very satisfied'.",
    "Wir würden uns über eine 10 freuen.",
    "Donnez-nous un 10, s'il vous plaît.",
    "Denos un 10 en la encuesta.",
    "نتمنى أن تعطينا 10",
    "Our NPS rose from 31 to 45 after the change.",
    "The guest gave us a 10 unprompted.",
    "10/10 rooms cleaned on time this week.",
    "The customer said she was very satisfied with the fix.",
)
