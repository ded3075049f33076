"""Sentences to read aloud when recording a voice: varied sounds, 6 to 10 seconds each.

A recording of one of these becomes the profile's reference and the sentence its transcript,
so the model can continue the recording (the closest cloning mode).
"""

from __future__ import annotations

import random

SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "The quick brown fox jumps over the lazy dog, while a gentle breeze rustles through "
        "the tall green trees near the quiet river.",
        "Every morning, I walk to the little bakery on the corner and buy fresh bread, warm "
        "croissants and a strong cup of coffee.",
        "She measured the distance carefully, then wrote the numbers in her notebook before "
        "the rain began to fall.",
        "Reading aloud is a pleasant way to enjoy a good story, especially on a long and "
        "rainy autumn evening.",
    ),
    "zh": (
        "今天天气很好，我们一起去公园散步，看看湖边的花和树，听听鸟儿的歌声。",
        "读书是一件快乐的事情，它让我们了解世界，也让我们认识自己。",
    ),
    "de": (
        "Jeden Morgen gehe ich zum kleinen Bäcker an der Ecke und kaufe frisches Brot und "
        "einen starken Kaffee.",
    ),
    "fr": (
        "Chaque matin, je vais à la petite boulangerie du coin pour acheter du pain frais et "
        "un café bien chaud.",
    ),
    "es": (
        "Cada mañana camino hasta la pequeña panadería de la esquina y compro pan recién "
        "hecho y un café caliente.",
    ),
}


def suggested_sentence(language: str | None = None, rng: random.Random | None = None) -> str:
    """A sentence in ``language`` (a code like "en" or "de-AT"; English if unknown)."""
    code = (language or "en").split("-")[0].split("_")[0].lower()
    choices = SENTENCES.get(code, SENTENCES["en"])
    return (rng or random).choice(choices)


#: What a voice preview says, by language (English if unknown): short, so it starts at once.
PREVIEW_SENTENCES: dict[str, str] = {
    "en": "Hello! This is how I sound when VoxDesk reads to you.",
    "zh": "你好！这是 VoxDesk 为你朗读时我的声音。",
    "de": "Hallo! So klinge ich, wenn VoxDesk dir vorliest.",
    "fr": "Bonjour ! Voici ma voix quand VoxDesk vous fait la lecture.",
    "es": "¡Hola! Así sueno cuando VoxDesk te lee en voz alta.",
}


def preview_sentence(language: str | None = None) -> str:
    code = (language or "en").split("-")[0].split("_")[0].lower()
    return PREVIEW_SENTENCES.get(code, PREVIEW_SENTENCES["en"])
