"""The demo hub's mailing data: version 1 of the privacy policy and of the terms, in
every language, and a few fictitious subscribers who confirmed their sign-up, so the
sign-up works in `make run` and the staff pages and API have something to show. The
documents are in force from a fixed date; the subscribers' sign-up times are the build's.

Called by the directory's demo builder (diplohub/directory/demo.py), and by
`diplohub demo_mailing --if-empty` for a demo database built before it existed.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import translation

from diplohub.directory.models import Person, Topic
from diplohub.mailing import services
from diplohub.mailing.models import (
    Consent,
    Erasure,
    PolicyDocument,
    PolicyKind,
    Purpose,
    Subscriber,
)

# === Joining the network: policies and subscribers ==================================

# In force from a fixed date, so the demo is the same on every build.
IN_FORCE_FROM = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)

TITLES = {
    PolicyKind.PRIVACY: {
        "en": "Privacy policy",
        "es": "Política de privacidad",
        "ca": "Política de privacitat",
    },
    PolicyKind.TERMS: {
        "en": "Terms of service",
        "es": "Condiciones de uso",
        "ca": "Condicions d'ús",
    },
}

PRIVACY = {
    "en": """\
This is a **demonstration text**: the hub that runs this site publishes its own.

## Who we are

{hub} ("the hub") keeps the data described here. Write to {contact} about anything
on this page.

## What we keep, and why

- **When you join the network:** your e-mail address, and what you choose to tell us
  (name, organisation, country, position, topics of interest, language). We use them
  to send you the newsletter and, if you ask for it, invitations and news of events.
- **Your consent:** each time you agree or withdraw, we record what, when, under which
  version of this policy and of the terms, through which form, and a salted hash of
  your IP address (never the address itself).
- **For events you attend:** your registration, your check-in and the feedback you give.

The legal basis is your consent, which you can withdraw at any time.

## How long

An unconfirmed sign-up is deleted after a few days. We keep your subscription until
you leave; the record of your consents is kept as proof for as long as the law asks.

## Your rights

You may change your choices or leave from the link at the foot of every message. You
may ask us for a copy of everything we hold about you, or for its erasure; we answer
within one month. You may also complain to your data-protection authority.
""",
    "es": """\
Este es un **texto de demostración**: el hub que gestiona este sitio publica el suyo.

## Quiénes somos

{hub} («el hub») custodia los datos que se describen aquí. Escríbanos a {contact}
para cualquier cuestión sobre esta página.

## Qué guardamos y por qué

- **Cuando se une a la red:** su dirección de correo y lo que decida contarnos
  (nombre, organización, país, cargo, temas de interés, idioma). Los usamos para
  enviarle el boletín y, si lo pide, invitaciones y noticias de actividades.
- **Su consentimiento:** cada vez que acepta o retira, registramos qué, cuándo, con qué
  versión de esta política y de las condiciones, desde qué formulario, y un hash con sal
  de su dirección IP (nunca la dirección).
- **Para las actividades a las que asiste:** su inscripción, su registro de entrada y
  su valoración.

La base legal es su consentimiento, que puede retirar en cualquier momento.

## Durante cuánto tiempo

Una inscripción no confirmada se borra al cabo de pocos días. Conservamos su
suscripción hasta que se dé de baja; el registro de sus consentimientos se guarda como
prueba tanto tiempo como exija la ley.

## Sus derechos

Puede cambiar sus preferencias o darse de baja desde el enlace al pie de cada mensaje.
Puede pedirnos una copia de todo lo que guardamos sobre usted, o su supresión;
respondemos en el plazo de un mes. También puede reclamar ante la autoridad de
protección de datos.
""",
    "ca": """\
Aquest és un **text de demostració**: el hub que gestiona aquest lloc publica el seu.

## Qui som

{hub} («el hub») custodia les dades que es descriuen aquí. Escrigui'ns a {contact}
per a qualsevol qüestió sobre aquesta pàgina.

## Què guardem i per què

- **Quan s'uneix a la xarxa:** la seva adreça de correu i el que decideixi explicar-nos
  (nom, organització, país, càrrec, temes d'interès, idioma). Els fem servir per
  enviar-li el butlletí i, si ho demana, invitacions i notícies d'activitats.
- **El seu consentiment:** cada cop que accepta o el retira, registrem què, quan, amb
  quina versió d'aquesta política i de les condicions, des de quin formulari, i un hash
  amb sal de la seva adreça IP (mai l'adreça).
- **Per a les activitats a què assisteix:** la seva inscripció, el registre d'entrada i
  la seva valoració.

La base legal és el seu consentiment, que pot retirar en qualsevol moment.

## Durant quant de temps

Una inscripció no confirmada s'esborra al cap de pocs dies. Conservem la seva
subscripció fins que es doni de baixa; el registre dels seus consentiments es guarda
com a prova tant de temps com exigeixi la llei.

## Els seus drets

Pot canviar les preferències o donar-se de baixa des de l'enllaç al peu de cada
missatge. Pot demanar-nos una còpia de tot el que guardem sobre vostè, o que ho
suprimim; responem en el termini d'un mes. També pot reclamar davant l'autoritat de
protecció de dades.
""",
}

TERMS = {
    "en": """\
This is a **demonstration text**: the hub that runs this site publishes its own.

## The network

Joining the network of {hub} is free. We send the newsletter a few times a month
at most, and invitations and news of events if you ask for them.

## Your part

Give an address that is yours, and keep your details up to date from your preference
page. Personal links in our messages open your preferences without a password: do not
forward them.

## Our part

We send you only what you chose, we never sell or lend your address, and you can leave
at any time, in one click, from any message.

## Changes

When these terms or the privacy policy change, we publish a new version with its date;
earlier versions stay readable on this site.
""",
    "es": """\
Este es un **texto de demostración**: el hub que gestiona este sitio publica el suyo.

## La red

Unirse a la red de {hub} es gratuito. Enviamos el boletín unas pocas veces al mes como
mucho, e invitaciones y noticias de actividades si las pide.

## Lo que le corresponde

Indique una dirección que sea suya y mantenga sus datos al día desde su página de
preferencias. Los enlaces personales de nuestros mensajes abren sus preferencias sin
contraseña: no los reenvíe.

## Lo que nos corresponde

Solo le enviamos lo que ha elegido, nunca vendemos ni prestamos su dirección, y puede
darse de baja en cualquier momento, con un clic, desde cualquier mensaje.

## Cambios

Cuando estas condiciones o la política de privacidad cambian, publicamos una nueva
versión con su fecha; las anteriores siguen disponibles en este sitio.
""",
    "ca": """\
Aquest és un **text de demostració**: el hub que gestiona aquest lloc publica el seu.

## La xarxa

Unir-se a la xarxa de {hub} és gratuït. Enviem el butlletí unes poques vegades al mes
com a molt, i invitacions i notícies d'activitats si les demana.

## El que li correspon

Indiqui una adreça que sigui seva i mantingui les dades al dia des de la seva pàgina de
preferències. Els enllaços personals dels nostres missatges obren les preferències
sense contrasenya: no els reenviï.

## El que ens correspon

Només li enviem el que ha triat, mai no venem ni prestem la seva adreça, i es pot
donar de baixa en qualsevol moment, amb un clic, des de qualsevol missatge.

## Canvis

Quan aquestes condicions o la política de privacitat canvien, publiquem una nova
versió amb la seva data; les anteriors continuen disponibles en aquest lloc.
""",
}

# Fictitious subscribers: (address, first name, last name, organisation, country,
# position, language, topic slugs, also events).
SUBSCRIBERS = [
    (
        "marta.recerca@research.example",
        "Marta",
        "Recerca-Example",
        "Example Institute of Photonic Sciences",
        "ES",
        "Head of international projects",
        "ca",
        ["hpc-ai", "space"],
        True,
    ),
    (
        "liang.wei@innovation.example",
        "Liang",
        "Wei-Example",
        "Example Innovation Agency",
        "CN",
        "Programme officer",
        "en",
        ["urban-innovation", "mobility"],
        False,
    ),
    (
        "lucia.fernandez@university.example",
        "Lucía",
        "Fernández-Example",
        "Example University",
        "AR",
        "Vice-rector for research",
        "es",
        ["health", "life-sciences"],
        True,
    ),
]


def reset_demo_mailing() -> None:
    """Delete the ledger, the subscribers, the erasures and the policies (in that
    order: a consent protects the policy versions it names)."""
    for model in (Consent, Subscriber, Erasure, PolicyDocument):
        model.objects.all().delete()


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@transaction.atomic
def build_demo_mailing(*, stdout: Any = None) -> str:
    """Publish version 1 of both documents and sign up (and confirm) the demo
    subscribers, sending no mail; a summary."""
    texts = {"hub": settings.HUB_NAME, "contact": settings.HUB_CONTACT_EMAIL}
    for kind, bodies in ((PolicyKind.PRIVACY, PRIVACY), (PolicyKind.TERMS, TERMS)):
        document = PolicyDocument(kind=kind, version=1, published_at=IN_FORCE_FROM)
        for code in _languages():
            source = code if code in bodies else "en"
            setattr(document, f"title_{code}", TITLES[kind][source])
            setattr(document, f"body_{code}", bodies[source].format(**texts))
        document.save()
    topics = {topic.slug: topic for topic in Topic.objects.all()}
    with services.no_mail(), translation.override(settings.LANGUAGE_CODE):
        for (
            email,
            first,
            last,
            organization,
            country,
            position,
            language,
            slugs,
            events,
        ) in SUBSCRIBERS:
            services.subscriber_sign_up(
                email=email,
                first_name=first,
                last_name=last,
                organization_name=organization,
                country=country,
                position=position,
                language=language if language in _languages() else settings.LANGUAGE_CODE,
                topics=[topics[slug] for slug in slugs if slug in topics],
                wants_events=events,
                source=services.SOURCE_JOIN,
            )
            services.subscriber_confirm(email=email)
        # A member of the directory who agreed to the newsletter from their own page:
        # one ledger for sign-ups and members.
        member = Person.objects.exclude(email="").order_by("pk").first()
        if member is not None:
            services.consents_update(
                email=member.email,
                wanted={Purpose.NEWSLETTER: True, Purpose.EVENTS: True},
                consent=True,
                source=services.SOURCE_MY_CONSENTS,
                person=member,
            )
    summary = (
        f"privacy policy and terms v1, {Subscriber.objects.count()} subscribers, "
        f"{Consent.objects.count()} consent records"
    )
    if stdout is not None:
        stdout.write(f"Mailing: {summary}")
    return summary
