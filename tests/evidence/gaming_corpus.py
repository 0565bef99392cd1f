"""Phrasings for score-solicitation detection: positives (each asks the customer for a score) and look-alike negatives
(reported scores, survey results, ordinary numbers). Used by tests/evidence/test_gaming_corpus.py and bench/gaming.py.

Written alongside the built-in phrase list, so its figures are an upper bound for unseen text: when a real miss or
false alarm turns up, add it here first.
"""

from __future__ import annotations

from typing import NamedTuple


class Sample(NamedTuple):
    text: str
    solicits: bool
    language: str
    note: str = ""


def _pos(language: str, *texts: str) -> list[Sample]:
    return [Sample(text, True, language) for text in texts]


def _neg(language: str, *texts: str) -> list[Sample]:
    return [Sample(text, False, language) for text in texts]


CORPUS: list[Sample] = [
    # English requests
    *_pos(
        "en",
        "Please give us a 10 on the survey!",
        "I asked: any reason you can't give me a ten?",
        "Rate us 5 stars if you liked your stay",
        "Could you rate us a 10 out of 10",
        "Leave us a five-star review on the app",
        "We asked customers to rate the desk after each call",
        "Give us a 10, it really helps the team.",
        "Can you score us a 9 or 10 when the email comes?",
        "Don't forget to rate us 10/10!",
        "Please tick 10 on the survey.",
        "Just put down a 10 for us when they call.",
        "10/10 please!",
        "Please 10/10 on the feedback form.",
        "5/5 if you liked it :)",
        "We need a 10 from you on this one.",
        "Would you give us five stars?",
        "Remember to give me top marks in the questionnaire.",
        "If there's any reason you wouldn't give a 10, tell me now.",
        "Reminded guests to give us a 10 at checkout.",
        "Kindly rate our service 10 out of 10.",
    ),
    # English wishes
    *_pos(
        "en",
        "We'd love a 10 if you have a minute.",
        "We would love it if you gave us five stars.",
        "Hoping for five stars from you!",
        "I hope you'll give us a 10.",
        "A 10 would mean the world to us.",
        "A five-star review would really help our small team.",
        "I'd really appreciate a 10 on the survey.",
        "It would be great if you rated us 10/10.",
        "Fingers crossed for a 10 on the follow-up survey!",
        "We would be so grateful for a perfect score.",
    ),
    # English conditions
    *_pos(
        "en",
        "If you were happy, please rate us 10.",
        "Anything less than 9 counts as a fail.",
        "Anything below a 10 is a failure for us.",
        "Only a 10 counts, so please keep that in mind.",
        "A 9 is considered a fail by head office.",
        "If you can't give us a 10, call me first.",
        "Scores under 9 hurt my bonus.",
        "If you felt well looked after, please select 10.",
        "My bonus depends on your score, so be kind.",
        "Any score lower than 10 counts against me.",
    ),
    # English survey-answer wording
    *_pos(
        "en",
        "When the survey comes, please answer 'extremely likely to recommend'.",
        "When asked, say you are very satisfied.",
        "Please tick 'very satisfied' on the card.",
        "Mark 'highly likely' on question 3.",
        "We need top box scores from you.",
        "Please choose the top box on every question.",
        "Select 'definitely would recommend' when they ask.",
        "Just click the green smiley on the way out.",
    ),
    # English with look-alike characters, zero-width spaces and other digits
    *_pos(
        "en",
        "Plеase gіve us а 10 on the survey",  # Cyrillic е, і, а
        "g\u200bive u\u200bs a 10",  # zero-width spaces
        "ＲＡＴＥ ＵＳ １０/１０",  # fullwidth
        "We\u2019d l\u03bfve a \U0001d7cf\U0001d7ce",  # curly apostrophe, Greek omicron, mathematical digits
        "PLEASE  GIVE   US   A   TEN",
        "Rate us ５ stars!",
    ),
    # German
    *_pos(
        "de",
        "Geben Sie uns bitte eine 10!",
        "Bitte bewerten Sie uns mit 10 Punkten.",
        "Wir würden uns über eine 10 sehr freuen.",
        "Wir hoffen auf 5 Sterne von Ihnen.",
        "Alles unter 9 gilt als nicht bestanden.",
        "Wenn Sie zufrieden waren, geben Sie uns die volle Punktzahl.",
        "Bitte kreuzen Sie 'sehr zufrieden' an.",
        "Bitte „äußerst wahrscheinlich“ ankreuzen.",
        "Gib uns fünf Sterne!",
    ),
    # French
    *_pos(
        "fr",
        "Donnez-nous un 10, s'il vous plaît.",
        "Merci de nous noter 10/10.",
        "Notez-nous 5 étoiles !",
        "Nous aimerions beaucoup un 10.",
        "On espère un 10 de votre part.",
        "Si vous êtes satisfait, mettez-nous 10.",
        "Tout ce qui est en dessous de 9 compte comme un échec.",
        "Cochez « très satisfait » dans le questionnaire.",
        "Répondez « extrêmement probable » à la première question.",
    ),
    # Spanish
    *_pos(
        "es",
        "Denos un 10 en la encuesta, por favor.",
        "Califíquenos con un 10.",
        "Puntúenos con 5 estrellas.",
        "Nos encantaría un 10.",
        "Esperamos un 10 de su parte.",
        "Si quedó satisfecho, denos un 10.",
        "Cualquier nota menor de 9 cuenta como fallo.",
        "Marque 'muy satisfecho' en la encuesta.",
        "Responda 'muy probable' cuando le pregunten.",
    ),
    # Arabic
    *_pos(
        "ar",
        "أعطنا 10 في الاستبيان من فضلك",
        "قيّمونا بـ١٠ من فضلكم",
        "يرجى تقييمنا بـ 10/10",
        "نتمنى أن تعطينا 10",
        "نأمل أن تمنحنا خمس نجوم",
        "إذا كنت راضياً فأعطنا 10",
        "أي تقييم أقل من 9 يعتبر فشلاً",
        "اختر «راضٍ جدًا» في الاستبيان",
        "أجب بـ«من المحتمل جدًا» عند السؤال",
    ),
    # English negatives: reported scores, results, ordinary numbers
    *_neg(
        "en",
        "CSAT rose from 8 to 9 out of 10 after the change.",
        "The guest gave a 10-minute account of the problem.",
        "We rate limited the booking API to 5 requests per second.",
        "Our NPS rose from 31 to 45.",
        "The guest gave us a 10 unprompted.",
        "10/10 rooms cleaned on time.",
        "Most guests rated us 9 out of 10 in March.",
        "Customers rate us 9 out of 10 on average.",
        "The customer said she was very satisfied with the fix.",
        "Top box share rose from 40% to 55%.",
        "The 5/5 checks passed before release.",
        "If the customer was unhappy, we called back within an hour.",
        "We'd love to hear your feedback about the new checkout.",
        "Hoping to reduce wait times by 10 minutes.",
        "9 of 10 tickets were resolved at first contact.",
        "Please give us your honest feedback.",
        "Give us 10 minutes and we will fix it.",
        "We stayed in a five-star hotel for the conference.",
        "Scores below 7 are detractors in the NPS method.",
        "Asked the customer to describe the problem in her own words.",
        "Anything less than 2 minutes of waiting is our goal.",
        "The survey asks how likely you are to recommend us.",
        "Respondents who were very satisfied rose to 62%.",
        "Please rate the steps in order of difficulty.",
        "We cut the form from 10 fields to 5.",
        "Handoff defects fell from 10 per week to 5.",
        "The hotel has a five star rating on the travel site.",
        "She wished us a good weekend and left.",
        "I would like to thank the 10 agents who helped.",
        "If you can't reach us by phone, use chat.",
        "Ticket 5510: the guest could not give us her booking number.",
        "Our score is 9 out of 10 on the internal audit.",
        "The manager said a 10 would be unrealistic this quarter.",
        "Extremely likely to recommend answers went up after the fix.",
        "Please select the room type before paying.",
    ),
    *_neg(
        "de",
        "Die Wartezeit sank von 10 auf 5 Minuten.",
        "Der Gast gab uns ohne Nachfrage eine 10.",
        "Sehr zufrieden waren 62 % der Befragten.",
    ),
    *_neg(
        "fr",
        "Le client nous a donné 10 sur 10 sans qu'on le demande.",
        "Le délai est passé de 10 à 5 jours.",
        "Les clients très satisfaits sont passés à 60 %.",
    ),
    *_neg(
        "es",
        "El cliente nos dio un 10 sin que se lo pidiéramos.",
        "El tiempo de espera bajó de 10 a 5 minutos.",
        "Los clientes muy satisfechos subieron al 60 %.",
    ),
    *_neg(
        "ar",
        "ارتفع مؤشر صافي الترويج من 31 إلى 45",
        "انخفض وقت الانتظار من 10 إلى 5 دقائق",
        "قال العميل إنه راضٍ جدًا عن الحل",
    ),
]

# Written after the list was tuned and never tuned against: the bench prints their figures separately, as a better
# guess of how the list does on text nobody anticipated.
HELD_OUT: list[Sample] = [
    *_pos(
        "en",
        "Be a star and give us ten out of ten on the card.",
        "Remember, a 10 is the only score that helps me.",
        "You will get a survey; 9s and 10s please!",
        "Could you see your way to a perfect 10?",
        "Ideally you'd answer 'very likely' to the first question.",
        "We're aiming for five stars from every guest, so please help us get there.",
        "Anything but a 10 and my manager calls me in.",
        "If everything was fine today, a 10 on the survey would be amazing.",
        "Please score your experience with us as 10.",
        "A glowing 5-star review is all I ask.",
    ),
    *_pos("de", "Ein Zehner wäre super!", "Bitte vergeben Sie die volle Punktzahl."),
    *_pos("fr", "Un petit 10 nous ferait très plaisir.", "Mettez la note maximale, merci !"),
    *_pos("es", "Un 10 nos ayudaría muchísimo.", "Por favor, ponnos 5 estrellas."),
    *_pos("ar", "لا تنسَ أن تعطينا الدرجة الكاملة", "نرجو منك تقييمنا بخمس نجوم"),
    *_neg(
        "en",
        "The guest wrote 'ten out of ten' in the comment box without being asked.",
        "We would love to cut the wait to 5 minutes.",
        "If you score the tickets by urgency, the queue drains faster.",
        "Hoping for fewer than 5 complaints this month.",
        "Please give the agents 10 minutes between calls.",
        "Ratings below 9 fell from 30% to 12% after the fix.",
    ),
    *_neg("de", "Wir hoffen, die Wartezeit unter 5 Minuten zu halten."),
    *_neg("fr", "Nous espérons réduire les retards de 10 %."),
    *_neg("es", "Esperamos bajar el tiempo a 5 minutos."),
    *_neg("ar", "نأمل أن نخفض وقت الانتظار إلى 5 دقائق"),
]

# A second set written after HELD_OUT had been used to add the sentence rules, and measured once without changes
# (the first measurement of each set is in docs/benchmarks.md, "Gaming detection").
HELD_OUT_2: list[Sample] = [
    *_pos(
        "en",
        "Just so you know, we only get credit for 10s.",
        "Would you mind rating the stay a ten?",
        "Our team is judged on 10/10 answers, so every one counts.",
        "I'm up for promotion - a great score from you would make my year.",
        "The survey goes out tomorrow; a full 5 stars would be lovely.",
        "Tell them you're extremely likely to recommend us, please.",
        "We're counting on you for a perfect score!",
        "Nothing below a 9, OK?",
        "Help us hit a 10 this month!",
        "A 10 from you = a happy Sam.",
    ),
    *_pos("de", "Über eine Zehn würden wir uns riesig freuen.", "Bitte bei der Umfrage 'sehr zufrieden' wählen."),
    *_pos("fr", "Un 10/10 de votre part serait génial.", "N'oubliez pas : 5 étoiles !"),
    *_pos("es", "Nos ayudaría mucho que nos diera la nota máxima.", "Acuérdese de ponernos un 10."),
    *_pos("ar", "ساعدنا بتقييم 10 من 10", "نتمنى منك خمس نجوم"),
    *_neg(
        "en",
        "Would you believe 10 of our 12 rooms were late?",
        "Please review the 5 steps in the new checklist.",
        "A 10% drop in repeat calls followed.",
        "She asked for a room on floor 10.",
        "You can find a 5-star review from March in the ticket.",
        "Rated 4.8 out of 5 across 300 reviews last year.",
    ),
    *_neg("de", "Bitte prüfen Sie die 10 offenen Tickets."),
    *_neg("fr", "Merci de rappeler le client sous 10 minutes."),
    *_neg("es", "Por favor, revise las 5 quejas abiertas."),
    *_neg("ar", "من فضلك راجع الشكاوى العشر المفتوحة"),
]
